using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Tenancy;
using Platform.Engines.Billing;
using Platform.Models.Billing;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps the billing routes of a tenant: subscribe or change plan, cancel, and the billing summary.</summary>
public static class BillingApi
{
    public static IEndpointRouteBuilder MapBillingApi(this IEndpointRouteBuilder routes)
    {
        var subscription = routes.MapTenantGroup("/subscription").WithTags("Billing");
        subscription.MapPost("/", SubscribeAsync).WithIdempotency();
        subscription.MapDelete("/", CancelAsync);
        routes.MapTenantGroup("/billing").WithTags("Billing").MapGet("/", GetSummaryAsync);
        routes.MapPost("/v1/billing/stripe/webhook", ReceiveWebhookAsync).WithTags("Billing").AllowAnonymous();
        return routes;
    }

    private static async Task<Ok<WebhookReceipt>> ReceiveWebhookAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        using var reader = new StreamReader(http.Request.Body);
        var payload = await reader.ReadToEndAsync(ct);
        var outcome = await mediator.Send(new ReceiveStripeWebhook(payload, http.Request.Headers["Stripe-Signature"].FirstOrDefault()), ct);
        return TypedResults.Ok(new WebhookReceipt(true, outcome));
    }

    private static async Task<Ok<SubscriptionResponse>> SubscribeAsync(SubscribeRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var subscription = await mediator.Send(new SubscribeTenant(http.ToCaller(), TenantRouteFilter.TenantId(http), body.Plan, body.BillingCycle, body.PaymentMethodId), ct);
        return TypedResults.Ok(SubscriptionResponse.From(subscription));
    }

    private static async Task<Ok<SubscriptionResponse>> CancelAsync(HttpContext http, IMediator mediator, bool? at_period_end, CancellationToken ct)
    {
        var subscription = await mediator.Send(new CancelSubscription(http.ToCaller(), TenantRouteFilter.TenantId(http), at_period_end ?? false), ct);
        return TypedResults.Ok(SubscriptionResponse.From(subscription));
    }

    private static async Task<Ok<BillingSummaryResponse>> GetSummaryAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var summary = await mediator.Send(new GetBillingSummary(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        return TypedResults.Ok(BillingSummaryResponse.From(summary));
    }
}

/// <summary>Is the answer to Stripe's webhook delivery: processed, duplicate (a replay) or ignored.</summary>
public sealed record WebhookReceipt(bool Received, string Outcome);

/// <summary>Is the body of a subscription or plan change.</summary>
public sealed record SubscribeRequest(string? Plan, string? BillingCycle, string? PaymentMethodId);

/// <summary>Is the wire form of a subscription; past_due_since (null unless past due) is the data of the billing banner.</summary>
public sealed record SubscriptionResponse(
    Guid Id, string Plan, string BillingCycle, string Status, bool CancelAtPeriodEnd, string? PendingPlan,
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

/// <summary>Is the wire form of the billing summary: plan, status, subscription, credit balance and the current period's estimate.</summary>
public sealed record BillingSummaryResponse(
    string Plan, string Status, DateTimeOffset? TrialEndsAt, SubscriptionResponse? Subscription, long? CreditBalance,
    EstimateResponse EstimatedCost, IReadOnlyList<InvoiceResponse> RecentInvoices)
{
    public static BillingSummaryResponse From(BillingSummary s) => new(
        s.Tenant.Plan, Models.Tenants.TenantStatuses.ToWire(s.Tenant.Status), s.Tenant.TrialEndsAt,
        s.Subscription is null ? null : SubscriptionResponse.From(s.Subscription), s.CreditBalance,
        new EstimateResponse(s.Estimate.PeriodStart, s.Estimate.PeriodEnd, s.Estimate.Currency,
            s.Estimate.Lines.Select(InvoiceLineResponse.From).ToList(), s.Estimate.TotalCents),
        s.RecentInvoices.Select(InvoiceResponse.From).ToList());
}
