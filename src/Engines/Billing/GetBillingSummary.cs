using MediatR;
using Platform.Engines.Plans;
using Platform.Drivers.Billing;
using Platform.Drivers.Credits;
using Platform.Drivers.Stripe;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Reads the tenant's billing summary (admin or higher): plan, status, subscription, credit balance and the current UTC month's estimate line by line.</summary>
public sealed record GetBillingSummary(Caller Caller, Guid TenantId) : IRequest<BillingSummary>, ITenantRead, ICallerCommand;

/// <summary>Holds the billing summary of a tenant; a null credit balance means no credit account was opened yet.</summary>
public sealed record BillingSummary(TenantSnapshot Tenant, SubscriptionSnapshot? Subscription, long? CreditBalance, PricedPeriod Estimate)
{
    /// <summary>Gets the tenant's last five invoices, newest first.</summary>
    public IReadOnlyList<InvoiceSnapshot> RecentInvoices { get; init; } = [];

    /// <summary>Tells whether billing runs online (a Stripe key is configured): Checkout, the customer portal and pack checkout can be used.</summary>
    public bool Online { get; init; }
}

internal sealed class GetBillingSummaryHandler(TenantGate gate, IBillingDriver billing, ICreditDriver credits, IInvoiceDriver invoices, Drivers.Plans.IQuotaDriver quotas,
    MeterCatalog meterCatalog, IStripeDriver stripe, IClock clock)
    : IRequestHandler<GetBillingSummary, BillingSummary>
{
    public async Task<BillingSummary> Handle(GetBillingSummary query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var subscription = await billing.FetchLiveSubscriptionAsync(scope.Session, query.TenantId, cancellationToken);
        var account = await credits.FetchAccountAsync(scope.Session, query.TenantId, cancellationToken);
        var (start, end) = UsagePricing.MonthOf(clock.UtcNow);
        var usage = await billing.FetchUsageTotalsAsync(scope.Session, query.TenantId, start, end, cancellationToken);
        var plan = PlanCatalog.Find(scope.Tenant.Plan) ?? PlanCatalog.Get(PlanCatalog.Free);
        // A tenant in its trial or without a subscription owes no base price; overages are shown all the same.
        var baseFraction = subscription is null ? 0m : 1m;
        // Overages are priced beyond the plan's quotas with the operator's overrides on top, as the close prices them.
        var limits = EffectiveLimits.OfPlan(plan, await quotas.ListOverridesAsync(scope.Session, query.TenantId, cancellationToken));
        var catalogue = await meterCatalog.LoadAsync(scope.Session, clock.UtcNow, cancellationToken);
        var estimate = UsagePricing.Price(plan, start, end, usage, baseFraction, limits, new MeterPricing(catalogue.Prices, catalogue.Meters));
        var recent = await invoices.ListInvoicesAsync(scope.Session, query.TenantId, null, null, 5, cancellationToken);
        return new BillingSummary(scope.Tenant, subscription, account?.Balance, estimate) { RecentInvoices = recent, Online = stripe.Online };
    }
}
