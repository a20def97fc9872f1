using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Suspends (as the system, audited) each tenant whose subscription has been past_due longer than Billing:DunningGraceDays (or, offline without a subscription, that is past_due for an invoice due longer ago than that); safe with many
/// copies running (each tenant is claimed with FOR UPDATE SKIP LOCKED and re-checked under the lock); returns how many it suspended.</summary>
public sealed record SuspendOverdueTenants(int MaxTenants = 500) : IRequest<int>;

internal sealed class SuspendOverdueTenantsHandler(
    IDbSessionFactory sessions, TenantSweep sweep, ITenantDriver tenants, IBillingDriver billing, IInvoiceDriver invoices, BillingLifecycle lifecycle, BillingOptions options, IClock clock)
    : IRequestHandler<SuspendOverdueTenants, int>
{
    public async Task<int> Handle(SuspendOverdueTenants command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var cutoff = now.AddDays(-options.DunningGraceDays);
        IReadOnlyList<Guid> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await billing.ListTenantsPastDueSinceAsync(lookup, cutoff, command.MaxTenants, cancellationToken);
            // Offline, without a subscription: past_due by an overdue invoice, the grace counted from its due date (docs/decisions/0330).
            due = [.. due, .. (await invoices.ListTenantsPastDueByInvoiceSinceAsync(lookup, cutoff, command.MaxTenants, cancellationToken)).Except(due)];
        }
        return await sweep.ForEachClaimedAsync(due, async scope =>
        {
            var tenantId = scope.Tenant.Id;
            var tenant = await tenants.FetchTenantAsync(scope.Session, tenantId, cancellationToken);
            var subscription = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
            var since = subscription is null && tenant?.Status == TenantStatus.PastDue
                ? await OverdueSinceAsync(scope, tenantId, now, cancellationToken)
                : subscription is { Status: SubscriptionStatus.PastDue } ? subscription.PastDueSince : null;
            if (tenant is null || tenant.Status is TenantStatus.Suspended or TenantStatus.Deleted || since is null || since >= cutoff)
            {
                return false;
            }
            await lifecycle.SetAsync(scope, tenant, PlanCatalog.Find(tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free), TenantStatus.Suspended,
                BillingLifecycle.DunningReason, Caller.System, $"past_due since {since:O}, grace {options.DunningGraceDays} days", now, cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <summary>Gets the start (UTC) of the due date of the tenant's oldest overdue invoice that Stripe does not collect, or null.</summary>
    private async Task<DateTimeOffset?> OverdueSinceAsync(TenantScope scope, Guid tenantId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await invoices.FetchOldestOverdueOfflineInvoiceAsync(scope.Session, tenantId, DateOnly.FromDateTime(now.UtcDateTime), cancellationToken) is { DueDate: { } due }
            ? new DateTimeOffset(due.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
            : null;
}
