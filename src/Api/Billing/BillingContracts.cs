using Platform.Api.Invoices;
using Platform.Engines.Billing;
using Platform.Models.Billing;
using Platform.Models.Tenants;

namespace Platform.Api.Billing;

/// <summary>Is the answer to Stripe's webhook delivery: processed, duplicate (a replay) or ignored.</summary>
public sealed record WebhookReceipt(bool Received, string Outcome);

/// <summary>Is the body of a Checkout start: a paid plan and its billing cycle (monthly or annual).</summary>
public sealed record CheckoutRequest(string? Plan, string? BillingCycle);

/// <summary>Is a Stripe Checkout Session to send the customer to: its id and Stripe-hosted URL.</summary>
public sealed record CheckoutSessionResponse(string Id, string Url);

/// <summary>Is a Stripe customer-portal session: the URL to send the customer to.</summary>
public sealed record PortalSessionResponse(string Url);

/// <summary>Is the body of a subscription or plan change.</summary>
public sealed record SubscribeRequest(string? Plan, string? BillingCycle, string? PaymentMethodId = null);

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

/// <summary>Is the wire form of one priced line: quantity, unit price in cents (may be fractional) and amount in cents.</summary>
public sealed record InvoiceLineResponse(string Kind, string Description, decimal Quantity, decimal UnitPriceCents, long AmountCents)
{
    public static InvoiceLineResponse From(InvoiceLine l) => new(l.Kind, l.Description, l.Quantity, l.UnitPriceCents, l.AmountCents);
}

/// <summary>Is the wire form of the current period's estimate.</summary>
public sealed record EstimateResponse(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, string Currency, IReadOnlyList<InvoiceLineResponse> Lines, long TotalCents);

/// <summary>Is the wire form of the billing summary: plan, status, subscription, credit balance, the current period's estimate, and whether billing runs online (Stripe Checkout, portal and pack checkout usable).</summary>
public sealed record BillingSummaryResponse(
    string Plan, TenantStatus Status, DateTimeOffset? TrialEndsAt, SubscriptionResponse? Subscription, long? CreditBalance,
    EstimateResponse EstimatedCost, IReadOnlyList<InvoiceResponse> RecentInvoices, bool OnlineBilling)
{
    public static BillingSummaryResponse From(BillingSummary s) => new(
        s.Tenant.Plan, s.Tenant.Status, s.Tenant.TrialEndsAt,
        s.Subscription is null ? null : SubscriptionResponse.From(s.Subscription), s.CreditBalance,
        new EstimateResponse(s.Estimate.PeriodStart, s.Estimate.PeriodEnd, s.Estimate.Currency,
            s.Estimate.Lines.Select(InvoiceLineResponse.From).ToList(), s.Estimate.TotalCents),
        s.RecentInvoices.Select(InvoiceResponse.From).ToList(), s.Online);
}
