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

/// <summary>Cancels the tenant's subscription (owner): now (the tenant moves to the free plan) or at the period end.</summary>
public sealed record CancelSubscription(Caller Caller, Guid TenantId, bool AtPeriodEnd)
    : IRequest<SubscriptionSnapshot>, ITenantCommand, ICallerCommand;

internal sealed class CancelSubscriptionHandler(TenantGate gate, ITenantDriver tenants, IBillingDriver billing, IStripeDriver stripe, AuditTrail audit, IClock clock)
    : IRequestHandler<CancelSubscription, SubscriptionSnapshot>
{
    public async Task<SubscriptionSnapshot> Handle(CancelSubscription command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var current = await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken)
            ?? throw new NotFoundException("subscription");
        if (current.StripeSubscriptionId is not null || stripe.Online)
        {
            throw new ConflictException("Cancelling a Stripe subscription here is not built yet; cancel it in Stripe's dashboard.", "not_supported_online");
        }

        SubscriptionSnapshot result;
        if (command.AtPeriodEnd)
        {
            result = await billing.UpdateSubscriptionAsync(scope.Session, command.TenantId, current.Id, current.Plan, null, true, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
        }
        else
        {
            result = await billing.CancelSubscriptionAsync(scope.Session, command.TenantId, current.Id, now, cancellationToken)
                ?? throw new NotFoundException("subscription");
            var free = PlanCatalog.Get(PlanCatalog.Free);
            await billing.SetTenantPlanForBillingAsync(scope.Session, command.TenantId, free.Id, free.TenantQuotas, TenantStatus.Active, now, cancellationToken);
        }
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "subscription.canceled", "subscription", result.Id,
            new { current.Plan, current.Status }, new { result.Plan, result.Status, result.CancelAtPeriodEnd }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }
}
