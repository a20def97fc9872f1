using FluentValidation;
using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Subscribes the tenant to a paid plan or changes its plan (owner): an upgrade applies now, a downgrade waits for the period end; the tenant's plan, status and quotas follow.</summary>
public sealed record SubscribeTenant(Caller Caller, Guid TenantId, string? Plan, string? BillingCycle, string? PaymentMethodId)
    : IRequest<SubscriptionSnapshot>, ITenantCommand, ICallerCommand;

internal sealed class SubscribeTenantValidator : AbstractValidator<SubscribeTenant>
{
    public SubscribeTenantValidator()
    {
        RuleFor(c => c.Plan).NotEmpty().Must(p => PlanCatalog.Find(p) is { PriceMonthlyCents: > 0 })
            .WithMessage($"The plan must be a paid plan: {string.Join(", ", PlanCatalog.All.Where(p => p.PriceMonthlyCents > 0).Select(p => p.Id))}.");
        RuleFor(c => c.BillingCycle).NotEmpty().Must(c => c is "monthly" or "annual").WithMessage("The billing cycle must be monthly or annual.");
        RuleFor(c => c.PaymentMethodId).MaximumLength(255);
    }
}

internal sealed class SubscribeTenantHandler(TenantGate gate, ITenantDriver tenants, IBillingDriver billing, IStripeDriver stripe, BillingLifecycle lifecycle, AuditTrail audit, IClock clock)
    : IRequestHandler<SubscribeTenant, SubscriptionSnapshot>
{
    public async Task<SubscriptionSnapshot> Handle(SubscribeTenant command, CancellationToken cancellationToken)
    {
        var plan = PlanCatalog.Get(command.Plan!);
        var now = clock.UtcNow;
        // Read access, then the suspension check here: a tenant suspended by billing (trial ended, dunning) may subscribe; an operator's suspension refuses.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        if (scope.Tenant.Status.BlocksWrites() && !BillingLifecycle.IsBillingSuspension(scope.Tenant))
        {
            throw new TenantSuspendedException();
        }
        // The tenant row's lock serialises subscription changes of one tenant.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var current = await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken);

        SubscriptionSnapshot result;
        if (current is null)
        {
            var id = Guid.CreateVersion7();
            var stripeSubscription = stripe.Online ? await CreateInStripeAsync(scope, plan.Id, command, id, now, cancellationToken) : null;
            var status = stripeSubscription?.Status is "past_due" or "unpaid" or "incomplete" ? "past_due" : "active";
            result = await billing.InsertSubscriptionAsync(scope.Session, new SubscriptionSnapshot(
                command.TenantId, id, plan.Id, command.BillingCycle!, status,
                false, null, now, command.BillingCycle == "annual" ? now.AddYears(1) : now.AddMonths(1), command.PaymentMethodId,
                stripeSubscription?.Id, now, now, null, PastDueSince: status == "past_due" ? now : null), cancellationToken);
            await lifecycle.FollowAsync(scope, result, command.Caller, "subscribed", now, cancellationToken);
        }
        else if (stripe.Online)
        {
            throw new ConflictException("Changing a Stripe subscription's plan is not built yet; cancel it in Stripe's dashboard.", "not_supported_online");
        }
        else if (current.Plan == plan.Id)
        {
            if (current.PendingPlan is null && !current.CancelAtPeriodEnd)
            {
                throw new ConflictException($"The tenant is already subscribed to {plan.Id}.", "already_subscribed");
            }
            // Re-choosing the current plan withdraws a pending downgrade or cancellation.
            result = await billing.UpdateSubscriptionAsync(scope.Session, command.TenantId, current.Id, plan.Id, null, false, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
        }
        else if (plan.PriceMonthlyCents > PlanCatalog.Get(current.Plan).PriceMonthlyCents)
        {
            // Upgrade: now (the invoice prorates by day, docs/decisions/0301).
            result = await billing.UpdateSubscriptionAsync(scope.Session, command.TenantId, current.Id, plan.Id, null, false, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
            await lifecycle.FollowAsync(scope, result, command.Caller, "upgraded", now, cancellationToken);
        }
        else
        {
            // Downgrade: the tenant keeps what it paid for until the period ends.
            result = await billing.UpdateSubscriptionAsync(scope.Session, command.TenantId, current.Id, current.Plan, plan.Id, false, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
        }

        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "subscription.changed", "subscription", result.Id,
            current is null ? null : new { current.Plan, current.PendingPlan, current.BillingCycle },
            new { result.Plan, result.PendingPlan, result.BillingCycle, result.Status }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Creates the customer on first need and the subscription in Stripe; the idempotency keys come from our own records
    /// (the tenant id, and the ordinal of this tenant's subscription), so a retry after a crash never creates a second one.</summary>
    private async Task<StripeSubscriptionResult> CreateInStripeAsync(TenantScope scope, string plan, SubscribeTenant command, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
        var ordinal = await billing.CountSubscriptionsAsync(scope.Session, tenantId, cancellationToken) + 1;
        return await stripe.CreateSubscriptionAsync(customerId, plan, command.BillingCycle!, command.PaymentMethodId, id,
            $"tenant-{tenantId}-subscription-{ordinal}", cancellationToken, tenantId);
    }
}
