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

    /// <summary>Gets this month's use per meter: used, included, overage and its cost so far in the tenant's currency (ADR 0721).</summary>
    public IReadOnlyList<MeterUsage> CurrentUsage { get; init; } = [];

    /// <summary>Gets the limits that hold for the tenant now: its plan's (or trial's) with the operator's overrides, from the one place that computes them; null for a plan not in the catalogue.</summary>
    public PlanLimits? Quotas { get; init; }

    /// <summary>Gets whether the tenant's billing currency (the estimate's) is fixed, by a subscription or an invoice, rather than the installation's default.</summary>
    public bool CurrencyFixed { get; init; }

    /// <summary>Tells whether billing runs online (a Stripe key is configured): Checkout, the customer portal and pack checkout can be used.</summary>
    public bool Online { get; init; }

    /// <summary>Gets the buyer's billing name and address and the card last attached, as Stripe's customer.updated and payment_method.attached
    /// reported them (ADR 0721, 0778); null when Stripe reported neither.</summary>
    public BillingProfile? Profile { get; init; }
}

internal sealed class GetBillingSummaryHandler(TenantGate gate, IBillingDriver billing, ICreditDriver credits, IInvoiceDriver invoices, Drivers.Plans.IQuotaDriver quotas,
    MeterCatalog meterCatalog, BillingOptions options, IStripeDriver stripe, IClock clock)
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
        var pricing = new MeterPricing(catalogue.Prices, catalogue.Meters);
        var fixedCurrency = await billing.FetchBillingCurrencyAsync(scope.Session, query.TenantId, cancellationToken);
        var estimate = UsagePricing.Price(plan, start, end, usage, baseFraction, limits, pricing, fixedCurrency ?? options.DefaultCurrencyCode);
        // The meters' use is read from the same figures the estimate prices, so its costs are the estimate's overage lines exactly.
        var currentUsage = CurrentUsage.Of(estimate, usage, limits, plan.Id, pricing);
        var quotasNow = await scope.LimitsAsync(cancellationToken);
        var recent = await invoices.ListInvoicesAsync(scope.Session, query.TenantId, null, null, 5, cancellationToken);
        var profile = await billing.FetchBillingProfileAsync(scope.Session, query.TenantId, cancellationToken);
        return new BillingSummary(scope.Tenant, subscription, account?.Balance, estimate) { RecentInvoices = recent, CurrencyFixed = fixedCurrency is not null, CurrentUsage = currentUsage, Quotas = quotasNow, Online = stripe.Online, Profile = profile };
    }
}
