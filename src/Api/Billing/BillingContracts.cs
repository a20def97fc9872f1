using Platform.Api.Invoices;
using Platform.Engines.Billing;
using Platform.Models.Billing;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Api.Billing;

/// <summary>Is the answer to Stripe's webhook delivery: processed, duplicate (a replay) or ignored.</summary>
public sealed record WebhookReceipt(bool Received, string Outcome);

/// <summary>Is the body of a Checkout start: a paid plan, its billing cycle (monthly or annual) and, for a tenant not yet billed, its currency
/// (usd or eur; the installation's when absent; fixed from then on, ADR 0720).</summary>
public sealed record CheckoutRequest(string? Plan, string? BillingCycle, string? Currency = null);

/// <summary>Is a Stripe Checkout Session to send the customer to: its id and Stripe-hosted URL.</summary>
public sealed record CheckoutSessionResponse(string Id, string Url);

/// <summary>Is a Stripe customer-portal session: the URL to send the customer to.</summary>
public sealed record PortalSessionResponse(string Url);

/// <summary>Is the body of a subscription or plan change; the currency (usd or eur) is chosen by the first subscription and must not differ later (ADR 0720).</summary>
public sealed record SubscribeRequest(string? Plan, string? BillingCycle, string? PaymentMethodId = null, string? Currency = null);

/// <summary>Is the wire form of a subscription; past_due_since (null unless past due) is the data of the billing banner.</summary>
public sealed record SubscriptionResponse(
    Guid Id, string Plan, string BillingCycle, SubscriptionStatus Status, bool CancelAtPeriodEnd, string? PendingPlan,
    DateTimeOffset CurrentPeriodStart, DateTimeOffset CurrentPeriodEnd, string? StripeSubscriptionId, DateTimeOffset CreatedAt, DateTimeOffset? CanceledAt,
    DateTimeOffset? PastDueSince)
{
    public static SubscriptionResponse From(SubscriptionSnapshot s) => new(
        s.Id, s.Plan, s.BillingCycle, s.Status, s.CancelAtPeriodEnd, s.PendingPlan, s.CurrentPeriodStart, s.CurrentPeriodEnd, s.StripeSubscriptionId, s.CreatedAt, s.CanceledAt,
        s.PastDueSince);
}

/// <summary>Is the answer to a plan change (subscribe, change plan, cancel): the subscription's wire form plus features_lost, the plan features the
/// tenant lost at once, in name order (empty for an upgrade or a change that waits for the period end). The data of a lost feature stays
/// (SSO settings, domains, branding, webhook endpoints); the feature stops (SSO enforcement lifted, domains stop resolving, branding not served).</summary>
public sealed record SubscriptionChangeResponse(
    Guid Id, string Plan, string BillingCycle, SubscriptionStatus Status, bool CancelAtPeriodEnd, string? PendingPlan,
    DateTimeOffset CurrentPeriodStart, DateTimeOffset CurrentPeriodEnd, string? StripeSubscriptionId, DateTimeOffset CreatedAt, DateTimeOffset? CanceledAt,
    DateTimeOffset? PastDueSince, IReadOnlyList<string> FeaturesLost)
{
    public static SubscriptionChangeResponse From(SubscriptionChange c)
    {
        var s = c.Subscription;
        return new(s.Id, s.Plan, s.BillingCycle, s.Status, s.CancelAtPeriodEnd, s.PendingPlan, s.CurrentPeriodStart, s.CurrentPeriodEnd, s.StripeSubscriptionId,
            s.CreatedAt, s.CanceledAt, s.PastDueSince, c.FeaturesLost);
    }
}

/// <summary>Is the wire form of one priced line: quantity, unit price in cents (may be fractional) and amount in cents.</summary>
public sealed record InvoiceLineResponse(string Kind, string Description, decimal Quantity, decimal UnitPriceCents, long AmountCents)
{
    public static InvoiceLineResponse From(InvoiceLine l) => new(l.Kind, l.Description, l.Quantity, l.UnitPriceCents, l.AmountCents);
}

/// <summary>Is the wire form of the current period's estimate.</summary>
public sealed record EstimateResponse(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, string Currency, IReadOnlyList<InvoiceLineResponse> Lines, long TotalCents);

/// <summary>Is the wire form of the billing summary: plan, status, subscription, credit balance, the current period's estimate, the tenant's billing
/// currency (fixed once chosen; the installation's until then, currency_fixed false) and whether it is fixed, this month's use per meter
/// (used, included — null when unlimited —, overage, cost so far with its currency) and the quotas that hold now (plan or trial, overrides on top); and whether billing runs online
/// (Stripe Checkout, portal and pack checkout usable); the card on file (brand, last four digits, expiry; null when none was attached) and the billing
/// details invoices are addressed to (billing email, and the name and address the customer gave Stripe), ADR 0778.</summary>
public sealed record BillingSummaryResponse(
    string Plan, TenantStatus Status, DateTimeOffset? TrialEndsAt, SubscriptionResponse? Subscription, long? CreditBalance,
    EstimateResponse EstimatedCost, IReadOnlyList<InvoiceResponse> RecentInvoices, string Currency, bool CurrencyFixed,
    IReadOnlyList<MeterUsage> CurrentUsage, PlanLimits? Quotas, bool OnlineBilling, PaymentMethodResponse? PaymentMethod, BillingDetailsResponse BillingDetails)
{
    public static BillingSummaryResponse From(BillingSummary s) => new(
        s.Tenant.Plan, s.Tenant.Status, s.Tenant.TrialEndsAt,
        s.Subscription is null ? null : SubscriptionResponse.From(s.Subscription), s.CreditBalance,
        new EstimateResponse(s.Estimate.PeriodStart, s.Estimate.PeriodEnd, s.Estimate.Currency,
            s.Estimate.Lines.Select(InvoiceLineResponse.From).ToList(), s.Estimate.TotalCents),
        s.RecentInvoices.Select(InvoiceResponse.From).ToList(), s.Estimate.Currency, s.CurrencyFixed, s.CurrentUsage, s.Quotas, s.Online,
        s.Profile?.Card is { } card ? new PaymentMethodResponse(card.Brand, card.Last4, card.ExpMonth, card.ExpYear) : null,
        new BillingDetailsResponse(s.Tenant.BillingEmail, s.Profile?.Name, s.Profile?.Address is { } a
            ? new BillingAddressResponse(a.Line1, a.Line2, a.PostalCode, a.City, a.State, a.Country) : null));
}

/// <summary>Is the card on file as Platform keeps it (never the number): brand, last four digits and expiry month and year.</summary>
public sealed record PaymentMethodResponse(string? Brand, string? Last4, int? ExpMonth, int? ExpYear);

/// <summary>Is who invoices are addressed to: the billing email, and the billing name and postal address kept from Stripe (null until reported).</summary>
public sealed record BillingDetailsResponse(string? Email, string? Name, BillingAddressResponse? Address);

/// <summary>Is a postal address as Stripe reports it; country is ISO 3166-1 alpha-2.</summary>
public sealed record BillingAddressResponse(string? Line1, string? Line2, string? PostalCode, string? City, string? State, string? Country);
