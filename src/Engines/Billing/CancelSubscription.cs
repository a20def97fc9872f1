using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Plans;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Plans;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Plans;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Cancels the tenant's subscription (owner), online (Stripe) or offline: now (the tenant moves to the free plan) or at the period end
/// (only flagged; the period-end job or Stripe's deletion event ends it).</summary>
public sealed record CancelSubscription(Caller Caller, Guid TenantId, bool AtPeriodEnd)
    : IRequest<SubscriptionChange>, ITenantWrite, ICallerCommand;

internal sealed class CancelSubscriptionHandler(
    TenantGate gate, ITenantDriver tenants, IBillingDriver billing, IStripeDriver stripe, BillingLifecycle lifecycle, AuditTrail audit, IFeatureOverrideDriver features, IClock clock)
    : IRequestHandler<CancelSubscription, SubscriptionChange>
{
    public async Task<SubscriptionChange> Handle(CancelSubscription command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        // As for subscribing: a tenant suspended by billing may cancel; an operator's suspension refuses.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        if (scope.Tenant.Status.BlocksWrites() && !BillingLifecycle.IsBillingSuspension(scope.Tenant))
        {
            throw new TenantSuspendedException();
        }
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var current = await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken)
            ?? throw new NotFoundException("subscription");
        _ = BillingLifecycle.Next(current.Status, command.AtPeriodEnd ? SubscriptionEvent.CancelScheduled : SubscriptionEvent.CanceledNow)
            ?? throw new NotFoundException("subscription");
        var tenantBefore = await tenants.FetchTenantAsync(scope.Session, command.TenantId, cancellationToken) ?? throw new NotFoundException("tenant");
        var tenantAfter = tenantBefore;

        SubscriptionSnapshot result;
        if (command.AtPeriodEnd)
        {
            if (current.StripeSubscriptionId is { } stripeId)
            {
                await stripe.SetCancelAtPeriodEndAsync(stripeId, true, SubscribeTenantHandler.ChangeKey(current, "cancel-at-period-end"), cancellationToken);
            }
            result = await billing.SaveSubscriptionAsync(scope.Session,
                current with { CancelAtPeriodEnd = true, PendingPlan = null, ChangeSeq = current.ChangeSeq + 1, UpdatedAt = now }, cancellationToken)
                ?? throw new NotFoundException("subscription");
        }
        else
        {
            if (current.StripeSubscriptionId is { } stripeId)
            {
                // One key per subscription: it can be canceled now only once.
                await stripe.CancelSubscriptionNowAsync(stripeId, $"subscription-{current.Id}-cancel", cancellationToken);
            }
            result = await billing.CancelSubscriptionAsync(scope.Session, command.TenantId, current.Id, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
            tenantAfter = await lifecycle.FollowAsync(scope, result, command.Caller, "canceled", now, cancellationToken);
        }
        await lifecycle.SubscriptionChangedAsync(scope, current, result, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "subscription.canceled", "subscription", result.Id,
            new { current.Plan, current.Status }, new { result.Plan, result.Status, result.CancelAtPeriodEnd }, cancellationToken);
        var lost = await FeatureLoss.LostAsync(features, scope, tenantBefore, tenantAfter, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new SubscriptionChange(result, lost);
    }
}
