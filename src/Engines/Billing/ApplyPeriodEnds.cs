using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;

namespace Platform.Engines.Billing;

/// <summary>At each subscription's current_period_end: ends subscriptions set to cancel at the period end (the tenant moves to the free plan),
/// applies pending downgrades, and rolls offline periods forward (Stripe rolls its own); safe with many copies running (tenants claimed with
/// FOR UPDATE SKIP LOCKED and re-checked under the lock); returns how many subscriptions it changed.</summary>
public sealed record ApplyPeriodEnds(int MaxTenants = 500) : IRequest<int>;

internal sealed class ApplyPeriodEndsHandler(
    IDbSessionFactory sessions, TenantSweep sweep, IBillingDriver billing, BillingLifecycle lifecycle, AuditTrail audit, IClock clock)
    : IRequestHandler<ApplyPeriodEnds, int>
{
    public async Task<int> Handle(ApplyPeriodEnds command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        IReadOnlyList<Guid> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await billing.ListTenantsDueAtPeriodEndAsync(lookup, now, command.MaxTenants, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(due, async scope =>
        {
            var tenantId = scope.Tenant.Id;
            var current = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
            if (current is null || current.CurrentPeriodEnd > now)
            {
                return false;
            }
            var after = await EndPeriodAsync(scope, current, now, cancellationToken);
            if (after is null)
            {
                return false;
            }
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "subscription.period_ended", "subscription", current.Id,
                new { current.Plan, current.PendingPlan, current.CancelAtPeriodEnd, current.Status, current.CurrentPeriodEnd },
                new { after.Plan, after.PendingPlan, after.Status, after.CurrentPeriodStart, after.CurrentPeriodEnd }, cancellationToken);
            await lifecycle.SubscriptionChangedAsync(scope, current, after, cancellationToken);
            await lifecycle.FollowAsync(scope, after, Caller.System, "period ended", now, cancellationToken);
            return true;
        }, cancellationToken);
    }

    private async Task<SubscriptionSnapshot?> EndPeriodAsync(TenantScope scope, SubscriptionSnapshot current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (BillingLifecycle.Next(current.Status, current.CancelAtPeriodEnd ? SubscriptionEvent.PeriodEndedCanceling : SubscriptionEvent.PeriodRolled) is not { } status)
        {
            return null;
        }
        if (status == SubscriptionStatus.Canceled)
        {
            return await billing.CancelSubscriptionAsync(scope.Session, current.TenantId, current.Id, now, cancellationToken);
        }
        var next = current with { Status = status, Plan = current.PendingPlan ?? current.Plan, PendingPlan = null, UpdatedAt = now };
        if (current.StripeSubscriptionId is null)
        {
            // Offline, the period rolls here by whole cycles (a job that was down catches up in one step).
            var (start, end) = (current.CurrentPeriodStart, current.CurrentPeriodEnd);
            while (end <= now)
            {
                (start, end) = (end, current.BillingCycle == "annual" ? end.AddYears(1) : end.AddMonths(1));
            }
            next = next with { CurrentPeriodStart = start, CurrentPeriodEnd = end };
        }
        else if (current.PendingPlan is null)
        {
            return null;
        }
        return await billing.SaveSubscriptionAsync(scope.Session, next, cancellationToken);
    }
}
