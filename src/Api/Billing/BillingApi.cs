using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines.Billing;

namespace Platform.Api.Billing;

/// <summary>Maps the billing routes of a tenant: subscribe or change plan, cancel, the billing summary, and Stripe's webhook.</summary>
public sealed class BillingApi : IEndpointGroup
{
    private const string NoSubscription = ProblemResponses.NotATenantOfYours + " Also when the tenant has no subscription.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var subscription = routes.MapTenantGroup("/subscription").WithTags("Billing");
        subscription.MapPost("/", SubscribeAsync).WithIdempotency()
            .WithName("subscribe")
            .WithSummary("Subscribe the tenant to a paid plan, or change its plan")
            .WithDescription("Needs the owner role; API keys cannot. An upgrade applies at once, a downgrade at the period's end; the billing cycle (monthly or annual) cannot change.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status404NotFound, NoSubscription)
            .Refuses(StatusCodes.Status409Conflict, "`already_subscribed`: the tenant is on this plan already; `billing_cycle_change_not_supported`: the cycle differs from the subscription's; "
                + "`idempotency_key_in_flight`: a request with this Idempotency-Key is still running; `billing_currency_fixed`: the tenant is billed in another currency; "
                + "`payment_provider_conflict`: Stripe refused the request as a conflict.")
            .RefusesAsPaymentProvider();
        subscription.MapDelete("/", CancelAsync)
            .WithName("cancelSubscription")
            .WithSummary("Cancel the tenant's subscription, now or at the period's end")
            .WithDescription("Needs the owner role; API keys cannot. at_period_end=true keeps the plan until the period ends.")
            .Refuses(StatusCodes.Status404NotFound, NoSubscription);
        routes.MapTenantGroup("/billing").WithTags("Billing").MapGet("/", GetSummaryAsync)
            .WithName("getBillingSummary")
            .WithSummary("Get the tenant's plan, subscription, credit balance, the period's estimate and recent invoices")
            .WithDescription("Needs the admin role or higher; API keys cannot.");
        var billing = routes.MapTenantGroup("/billing").WithTags("Billing");
        billing.MapPost("/checkout", StartCheckoutAsync)
            .WithName("startCheckout")
            .WithSummary("Start a Stripe Checkout Session for a paid plan and cycle (online billing)")
            .WithDescription("Needs the owner role; API keys cannot. Answers the session's id and the Stripe-hosted URL to send the customer to (promotion codes allowed); "
                + "it returns to the dashboard's /billing?checkout=success or cancel, and Stripe's checkout.session.completed completes the subscription.")
            .RefusesBody()
            .Refuses(StatusCodes.Status409Conflict, "`billing_offline`: no Stripe key is configured; `already_subscribed`: the tenant has a Stripe subscription already; "
                + "`billing_currency_fixed`: the tenant is billed in another currency; `payment_provider_conflict`: Stripe refused the request as a conflict.")
            .RefusesAsPaymentProvider();
        billing.MapPost("/portal", OpenPortalAsync)
            .WithName("openBillingPortal")
            .WithSummary("Open a Stripe customer-portal session for cards, invoices and cancellation (online billing)")
            .WithDescription("Needs the admin role or higher; API keys cannot. Returns to the dashboard's /billing.")
            .Refuses(StatusCodes.Status409Conflict, "`billing_offline`: no Stripe key is configured; `payment_provider_conflict`: Stripe refused the request as a conflict.")
            .RefusesAsPaymentProvider();
        routes.MapPost("/v1/billing/stripe/webhook", ReceiveWebhookAsync).WithTags("Billing").AllowAnonymous()
            .WithName("receiveStripeWebhook")
            .WithSummary("Receive a Stripe event (Stripe calls this, signed with the webhook secret)")
            .WithDescription("Anonymous, but the Stripe-Signature header must verify; a replayed event is answered as a duplicate and changes nothing.")
            .Refuses(StatusCodes.Status400BadRequest, "`invalid_signature`: the Stripe-Signature header is missing or does not verify, or no webhook secret is configured; "
                + ProblemResponses.BadParameter)
            .Refuses(StatusCodes.Status413PayloadTooLarge, ProblemResponses.TooLarge)
            .Refuses(StatusCodes.Status422UnprocessableEntity, ProblemResponses.UnstorableText);
    }

    private static async Task<Ok<WebhookReceipt>> ReceiveWebhookAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        using var reader = new StreamReader(http.Request.Body);
        var payload = await reader.ReadToEndAsync(ct);
        var outcome = await mediator.Send(new ReceiveStripeWebhook(payload, http.Request.Headers["Stripe-Signature"].FirstOrDefault()), ct);
        return TypedResults.Ok(new WebhookReceipt(true, outcome));
    }

    private static async Task<Created<CheckoutSessionResponse>> StartCheckoutAsync(CheckoutRequest body, [AsParameters] TenantRequest request)
    {
        var session = await request.Send(new StartCheckout(request.Caller, request.TenantId, body.Plan, body.BillingCycle, body.Currency));
        return TypedResults.Created(session.Url, new CheckoutSessionResponse(session.Id, session.Url));
    }

    private static async Task<Ok<PortalSessionResponse>> OpenPortalAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(new PortalSessionResponse(await request.Send(new OpenBillingPortal(request.Caller, request.TenantId))));

    private static async Task<Ok<SubscriptionChangeResponse>> SubscribeAsync(SubscribeRequest body, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(SubscriptionChangeResponse.From(await request.Send(new SubscribeTenant(request.Caller, request.TenantId, body.Plan, body.BillingCycle, body.PaymentMethodId, body.Currency))));

    private static async Task<Ok<SubscriptionChangeResponse>> CancelAsync([AsParameters] TenantRequest request, bool? at_period_end) =>
        TypedResults.Ok(SubscriptionChangeResponse.From(await request.Send(new CancelSubscription(request.Caller, request.TenantId, at_period_end ?? false))));

    private static async Task<Ok<BillingSummaryResponse>> GetSummaryAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(BillingSummaryResponse.From(await request.Send(new GetBillingSummary(request.Caller, request.TenantId))));
}
