using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Models.Errors;

namespace Platform.Api.Endpoints;

/// <summary>Maps operator management under /v1/admin (super_admin only: list, create, change role, disable, enable, reset TOTP) and every operator's own TOTP enrolment.</summary>
public static class OperatorsAdminApi
{
    public static IEndpointRouteBuilder MapOperatorsAdminApi(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(OperatorAuth.Policy).AddEndpointFilter<OperatorRequestFilter>();
        admin.MapGet("/operators", ListAsync);
        admin.MapPost("/operators", CreateAsync);
        admin.MapGet("/operators/{id:guid}", GetAsync);
        admin.MapPatch("/operators/{id:guid}", ChangeRoleAsync);
        admin.MapPost("/operators/{id:guid}/disable", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            ChangeAsync(id, OperatorChange.Disable, body, http, mediator, ct));
        admin.MapPost("/operators/{id:guid}/enable", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            ChangeAsync(id, OperatorChange.Enable, body, http, mediator, ct));
        admin.MapPost("/operators/{id:guid}/totp/reset", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            ChangeAsync(id, OperatorChange.ResetTotp, body, http, mediator, ct));
        admin.MapPost("/auth/totp/enroll", EnrollAsync).WithMetadata(TotpEnrolmentRoute.Instance);
        admin.MapPost("/auth/totp/confirm", ConfirmAsync).WithMetadata(TotpEnrolmentRoute.Instance);
        return routes;
    }

    private static async Task<Ok<ListResponse<OperatorResponse>>> ListAsync(HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListOperators(http.ToOperatorCaller(), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<OperatorResponse>.From(page, OperatorResponse.From));
    }

    private static async Task<Created<CreatedOperatorResponse>> CreateAsync(CreateOperatorRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var role = body.Role ?? throw ValidationFailedException.For("role", "The role is required.");
        var created = await mediator.Send(new AddOperator(http.ToOperatorCaller(), body.Email ?? "", body.Name ?? "", role, body.Password ?? "",
            body.EnableTotp ?? role == "super_admin", body.ReasonCode, body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/operators/{created.Operator.Id}", CreatedOperatorResponse.From(created));
    }

    private static async Task<Ok<OperatorResponse>> GetAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(new GetOperator(http.ToOperatorCaller(), id), ct)));

    private static async Task<Ok<OperatorResponse>> ChangeRoleAsync(Guid id, ChangeOperatorRoleRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var role = body.Role ?? throw ValidationFailedException.For("role", "The role is required.");
        return TypedResults.Ok(OperatorResponse.From(await mediator.Send(
            new ChangeOperator(http.ToOperatorCaller(), id, OperatorChange.Role, role, body.ReasonCode, body.ReasonNote), ct)));
    }

    private static async Task<Ok<OperatorResponse>> ChangeAsync(
        Guid id, OperatorChange change, FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(
            new ChangeOperator(http.ToOperatorCaller(), id, change, null, body?.ReasonCode, body?.ReasonNote), ct)));

    private static async Task<Ok<TotpEnrolmentResponse>> EnrollAsync(HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(TotpEnrolmentResponse.From(await mediator.Send(new StartTotpEnrolment(http.ToOperatorCaller()), ct)));

    private static async Task<Ok<OperatorResponse>> ConfirmAsync(ConfirmTotpRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(new ConfirmTotpEnrolment(http.ToOperatorCaller(), body.Code ?? ""), ct)));
}
