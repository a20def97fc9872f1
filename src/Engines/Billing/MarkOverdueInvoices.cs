using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Offline dunning: makes the live subscription (or, without one, the tenant) past_due for each tenant with an open invoice Stripe does not collect
/// whose due date has passed, past_due since the start of that due date (UTC); does nothing while Stripe is configured. Safe with many copies running
/// (each tenant is claimed with FOR UPDATE SKIP LOCKED and re-checked under the lock); returns how many tenants it marked.</summary>
public sealed record MarkOverdueInvoices(int MaxTenants = 500) : IRequest<int>;

internal sealed class MarkOverdueInvoicesHandler(
    IDbSessionFactory sessions, TenantSweep sweep, ITenantDriver tenants, IBillingDriver billing, IInvoiceDriver invoices, IStripeDriver stripe,
    BillingLifecycle lifecycle, AuditTrail audit, IClock clock)
    : IRequestHandler<MarkOverdueInvoices, int>
{
    public async Task<int> Handle(MarkOverdueInvoices command, CancellationToken cancellationToken)
    {
        // Online, Stripe collects and reports failures (invoice.payment_failed); its dunning is the webhook's.
        if (stripe.Online)
        {
            return 0;
        }
        var now = clock.UtcNow;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        IReadOnlyList<Guid> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await invoices.ListTenantsWithOverdueOfflineInvoicesAsync(lookup, today, command.MaxTenants, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(due, async scope =>
        {
            var tenantId = scope.Tenant.Id;
            var tenant = await tenants.FetchTenantAsync(scope.Session, tenantId, cancellationToken);
            var invoice = await invoices.FetchOldestOverdueOfflineInvoiceAsync(scope.Session, tenantId, today, cancellationToken);
            if (tenant is null || tenant.Status is TenantStatus.Suspended or TenantStatus.Deleted || invoice?.DueDate is not { } dueDate)
            {
                return false;
            }
            var since = new DateTimeOffset(dueDate.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var cause = $"invoice {invoice.Number} due {dueDate:yyyy-MM-dd} is unpaid";
            var subscription = await billing.FetchLiveSubscriptionAsync(scope.Session, tenantId, cancellationToken);
            if (subscription is not null)
            {
                if (BillingLifecycle.Next(subscription.Status, SubscriptionEvent.PaymentFailed) is not { } owing || owing == subscription.Status)
                {
                    return false;
                }
                var pastDue = await billing.SaveSubscriptionAsync(scope.Session, subscription with { Status = owing, PastDueSince = since, UpdatedAt = now }, cancellationToken)
                    ?? throw new NotFoundException("subscription");
                await audit.RecordAsync(scope.Session, tenantId, Caller.System, "subscription.past_due", "subscription", pastDue.Id,
                    new { subscription.Status }, new { pastDue.Status, pastDue.PastDueSince, invoice_id = invoice.Id, invoice.Number }, cancellationToken);
                await lifecycle.SubscriptionChangedAsync(scope, subscription, pastDue, cancellationToken);
                await lifecycle.FollowAsync(scope, pastDue, Caller.System, cause, now, cancellationToken);
            }
            else
            {
                if (tenant.Status == TenantStatus.PastDue)
                {
                    return false;
                }
                await lifecycle.SetAsync(scope, tenant, PlanCatalog.Find(tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free), TenantStatus.PastDue, null,
                    Caller.System, cause, now, cancellationToken);
            }
            return true;
        }, cancellationToken);
    }
}
