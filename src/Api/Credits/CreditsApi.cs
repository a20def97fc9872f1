using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Credits;

namespace Platform.Api.Credits;

/// <summary>Maps the credit routes of a tenant: balance, ledger and pack purchase.</summary>
public sealed class CreditsApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var credits = routes.MapTenantGroup("/credits").WithTags("Credits");
        credits.MapGet("/", GetAsync)
            .WithName("getCredits")
            .WithSummary("Get the tenant's credit balance, monthly grant and the packs for sale")
            .WithDescription("Needs the admin role or higher; API keys cannot.");
        credits.MapGet("/transactions", ListTransactionsAsync)
            .WithName("listCreditTransactions")
            .WithSummary("List the tenant's credit ledger, newest first")
            .WithDescription("Needs the admin role or higher; API keys cannot.");
        credits.MapPost("/purchase", PurchaseAsync).WithIdempotency()
            .WithName("purchaseCredits")
            .WithSummary("Buy a credit pack")
            .WithDescription("Needs the owner role; refused while the tenant is suspended. Online, the answer carries the PaymentIntent's client secret (shown once) and the credits arrive when Stripe confirms the payment.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused);
        credits.MapPost("/checkout", CheckoutAsync)
            .WithName("checkoutCredits")
            .WithSummary("Buy a credit pack through Stripe Checkout (online billing)")
            .WithDescription("Needs the owner role; refused while the tenant is suspended. Answers the pending purchase and the Checkout Session's id and URL; "
                + "the credits arrive once when Stripe reports the session completed and paid.")
            .RefusesBody()
            .Refuses(StatusCodes.Status409Conflict, "`billing_offline`: no Stripe key is configured (buy with POST /credits/purchase).");
    }

    private static async Task<Created<CreditCheckoutResponse>> CheckoutAsync(PurchaseCreditsRequest body, [AsParameters] TenantRequest request)
    {
        var result = await request.Send(new StartCreditCheckout(request.Caller, request.TenantId, body.Pack));
        return TypedResults.Created(result.Session.Url,
            new CreditCheckoutResponse(CreditPurchaseResponse.From(result.Purchase, null), result.Session.Id, result.Session.Url));
    }

    private static async Task<Ok<CreditAccountResponse>> GetAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(CreditAccountResponse.From(await request.Send(new GetCredits(request.Caller, request.TenantId))));

    private static async Task<Ok<ListResponse<CreditTransactionResponse>>> ListTransactionsAsync([AsParameters] TenantRequest request, string? cursor, int? limit)
    {
        var page = await request.Send(new ListCreditTransactions(request.Caller, request.TenantId, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<CreditTransactionResponse>.From(page, CreditTransactionResponse.From));
    }

    private static async Task<Created<CreditPurchaseResponse>> PurchaseAsync(PurchaseCreditsRequest body, [AsParameters] TenantRequest request)
    {
        var purchase = await request.Send(new PurchaseCredits(request.Caller, request.TenantId, body.Pack));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/credits/transactions", CreditPurchaseResponse.From(purchase.Purchase, purchase.ClientSecret));
    }
}
