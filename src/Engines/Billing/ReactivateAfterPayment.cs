using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Records that the tenant paid what it owed (an operator marking an invoice paid offline, or the system): a past_due subscription becomes active
/// and a tenant that is past_due or suspended by billing becomes active again; an operator's suspension stays. Operators and the system only.</summary>
public sealed record ReactivateAfterPayment(Caller Caller, Guid TenantId) : IRequest<TenantSnapshot>, ITenantCommand, ICallerCommand;

internal sealed class ReactivateAfterPaymentHandler(
    TenantGate gate, ITenantDriver tenants, IBillingDriver billing, BillingLifecycle lifecycle, AuditTrail audit, IClock clock)
    : IRequestHandler<ReactivateAfterPayment, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(ReactivateAfterPayment command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not (CallerKind.System or CallerKind.Operator))
        {
            throw new ForbiddenException("Only operators and the system record payments.");
        }
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var subscription = await billing.FetchLiveSubscriptionAsync(scope.Session, command.TenantId, cancellationToken);
        TenantSnapshot result;
        if (subscription is not null)
        {
            var paid = subscription;
            if (subscription.Status == "past_due")
            {
                paid = await billing.SaveSubscriptionAsync(scope.Session, subscription with { Status = "active", PastDueSince = null, UpdatedAt = now }, cancellationToken)
                    ?? throw new NotFoundException("subscription");
                await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "subscription.paid", "subscription", paid.Id,
                    new { subscription.Status, subscription.PastDueSince }, new { paid.Status }, cancellationToken);
            }
            result = await lifecycle.FollowAsync(scope, paid, command.Caller, "payment recorded", now, cancellationToken);
        }
        else
        {
            // No subscription (a usage invoice paid after cancellation): only billing's own suspension or past_due is lifted.
            var tenant = await tenants.FetchTenantAsync(scope.Session, command.TenantId, cancellationToken) ?? throw new NotFoundException("tenant");
            result = tenant.Status == TenantStatus.PastDue || BillingLifecycle.IsBillingSuspension(tenant)
                ? await lifecycle.SetAsync(scope, tenant, PlanCatalog.Find(tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free), TenantStatus.Active, null,
                    command.Caller, "payment recorded", now, cancellationToken)
                : tenant;
        }
        await scope.CommitAsync(cancellationToken);
        return result;
    }
}
