using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Operators;
using Platform.Models.Errors;

namespace Platform.Api.Operators;

/// <summary>Maps the operators' credit corrections: an adjustment (+/-) of a tenant's credits (reversible) and the refund of a credit pack purchase
/// (irreversible; refunded in Stripe when it was paid online), each an audited founder action with a reason (ADR 0650).</summary>
public sealed class CreditsAdminApi : IEndpointGroup
{
    private const string ReasonInvalid = "`validation_failed`: reason_code is missing or not a lower_snake_case code, or a field is not valid (`errors` names it); or text PostgreSQL cannot store.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin", "Operators");
        admin.MapPost("/tenants/{tenant_id:guid}/credits/adjustments", AdjustAsync)
            .WithName("adjustCredits")
            .WithSummary("Add (positive amount) or take (negative) credits on a tenant's account, as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code. Books an `adjustment` ledger row; the balance never goes below zero. Reversing it books the opposite adjustment.")
            .RefusesBody("`validation_failed`: amount is missing, 0 or beyond ±1,000,000,000, or reason_code is missing or not valid (`errors` names it); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant has this id.")
            .Refuses(StatusCodes.Status409Conflict, "`insufficient_credits`: the balance is smaller than the credits to take.");
        admin.MapPost("/tenants/{tenant_id:guid}/credits/purchases/{purchase_id:guid}/refund", RefundAsync)
            .WithName("refundCreditPurchase")
            .WithSummary("Refund a credit pack purchase: its credits are taken back and, when paid through Stripe, the payment is refunded there, as a founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code. Books a `refund` ledger row once per purchase. Irreversible.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant has this id, or it has no purchase with this id.")
            .Refuses(StatusCodes.Status409Conflict, "`purchase_already_refunded`: refunded before; `purchase_not_refundable`: the purchase is pending or failed; `insufficient_credits`: the purchase's credits are spent.");
    }

    private static async Task<Created<FounderActionResponse>> AdjustAsync(
        Guid tenant_id, CreditAdjustmentRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var amount = body.Amount ?? throw ValidationFailedException.For("amount", "The amount is required: a whole number of credits other than 0 (negative takes credits).");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.AdjustCredits,
            tenant_id.ToString(), body.ReasonCode ?? "", body.ReasonNote, amount), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> RefundAsync(
        Guid tenant_id, Guid purchase_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.RefundCreditPurchase,
            $"{tenant_id}/{purchase_id}", body.ReasonCode ?? "", body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }
}

/// <summary>Is the body of a credit adjustment: a signed whole number of credits (negative takes), with the founder action's reason.</summary>
public sealed record CreditAdjustmentRequest(long? Amount, string? ReasonCode, string? ReasonNote = null);
