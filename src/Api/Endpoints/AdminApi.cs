using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Support;

namespace Platform.Api.Endpoints;

/// <summary>Maps the operator console under /v1/admin: operator login, tenant search and detail, suspension, API key freezing and quota overrides as founder actions, the action list and reversal, and support tickets across tenants.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/admin/auth/login", LogInAsync).WithTags("Admin").AllowAnonymous();

        var admin = routes.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(OperatorAuth.Policy).AddEndpointFilter<OperatorRequestFilter>();
        admin.MapGet("/tenants", SearchTenantsAsync);
        admin.MapGet("/tenants/{tenant_id:guid}", GetTenantAsync);
        admin.MapPost("/tenants/{tenant_id:guid}/suspend", (Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            PerformAsync(FounderActionTypes.SuspendTenant, tenant_id, body, http, mediator, ct));
        admin.MapPost("/tenants/{tenant_id:guid}/unsuspend", (Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            PerformAsync(FounderActionTypes.UnsuspendTenant, tenant_id, body, http, mediator, ct));
        admin.MapPost("/api-keys/{key_id:guid}/freeze", (Guid key_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            PerformAsync(FounderActionTypes.FreezeApiKey, key_id, body, http, mediator, ct));
        admin.MapPost("/api-keys/{key_id:guid}/unfreeze", (Guid key_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            PerformAsync(FounderActionTypes.UnfreezeApiKey, key_id, body, http, mediator, ct));
        admin.MapPut("/tenants/{tenant_id:guid}/quotas/{quota}", SetQuotaOverrideAsync);
        admin.MapDelete("/tenants/{tenant_id:guid}/quotas/{quota}", ClearQuotaOverrideAsync);
        admin.MapGet("/actions", ListActionsAsync);
        admin.MapGet("/actions/{id:guid}", GetActionAsync);
        admin.MapPost("/actions/{id:guid}/reverse", ReverseAsync);

        admin.MapGet("/support-tickets", ListTicketsAsync);
        admin.MapGet("/support-tickets/{id:guid}", GetTicketAsync);
        admin.MapPost("/support-tickets/{id:guid}/responses", RespondAsync);
        admin.MapPatch("/support-tickets/{id:guid}", ChangeStatusAsync);
        admin.MapPost("/support-tickets/{id:guid}/resolve", ResolveAsync);
        return routes;
    }

    private static async Task<Ok<OperatorLogInResponse>> LogInAsync(OperatorLogInRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, CancellationToken ct)
    {
        var login = await mediator.Send(new LogInOperator(body.Email ?? "", body.Password ?? "", body.TotpCode, CallerExtensions.Origin(http).Ip), ct);
        var o = login.Operator;
        var token = tokens.IssueOperatorToken(o.Id, o.Email, o.Role.ToWire(), login.MfaVerified);
        return TypedResults.Ok(new OperatorLogInResponse(token, "Bearer", tokens.OperatorLifetimeSeconds, login.MfaVerified, OperatorResponse.From(o)));
    }

    private static async Task<Ok<ListResponse<TenantResponse>>> SearchTenantsAsync(
        HttpContext http, IMediator mediator, string? q, string? status, string? plan, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new SearchTenants(http.ToOperatorCaller(), q, status, plan, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<TenantResponse>.From(page, t => TenantResponse.From(t, null)));
    }

    private static async Task<Ok<AdminTenantResponse>> GetTenantAsync(Guid tenant_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var detail = await mediator.Send(new GetAdminTenant(http.ToOperatorCaller(), tenant_id), ct);
        return TypedResults.Ok(AdminTenantResponse.From(detail));
    }

    private static async Task<Created<FounderActionResponse>> PerformAsync(
        string actionType, Guid targetId, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), actionType, targetId.ToString(), body.ReasonCode ?? "", body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> SetQuotaOverrideAsync(
        Guid tenant_id, string quota, QuotaOverrideActionRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var value = body.Value ?? throw ValidationFailedException.For("value", "The value is required (-1 for unlimited).");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.SetQuotaOverride,
            $"{tenant_id}/{quota}", body.ReasonCode ?? "", body.ReasonNote, value), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> ClearQuotaOverrideAsync(
        Guid tenant_id, string quota, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.ClearQuotaOverride,
            $"{tenant_id}/{quota}", body?.ReasonCode ?? "", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Ok<ListResponse<FounderActionResponse>>> ListActionsAsync(
        HttpContext http, IMediator mediator, Guid? tenant_id, string? action_type, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListFounderActions(http.ToOperatorCaller(), new FounderActionFilter(tenant_id, action_type), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<FounderActionResponse>.From(page, FounderActionResponse.From));
    }

    private static async Task<Ok<FounderActionResponse>> GetActionAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(FounderActionResponse.From(await mediator.Send(new GetFounderAction(http.ToOperatorCaller(), id), ct)));

    private static async Task<Created<FounderActionResponse>> ReverseAsync(
        Guid id, FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var reversal = await mediator.Send(new ReverseFounderAction(http.ToOperatorCaller(), id, body?.ReasonCode ?? "reversal", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{reversal.Id}", FounderActionResponse.From(reversal));
    }

    private static async Task<Ok<ListResponse<SupportTicketResponse>>> ListTicketsAsync(
        HttpContext http, IMediator mediator, Guid? tenant_id, string? status, string? priority, string? category, string? cursor, int? limit, CancellationToken ct)
    {
        var filter = new SupportTicketFilter(tenant_id, status, priority, category);
        var page = await mediator.Send(new ListAllSupportTickets(http.ToOperatorCaller(), filter, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<SupportTicketResponse>.From(page, SupportTicketResponse.From));
    }

    private static async Task<Ok<SupportTicketResponse>> GetTicketAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new GetSupportTicketForOperator(http.ToOperatorCaller(), id), ct)));

    private static async Task<Created<SupportTicketCommentResponse>> RespondAsync(
        Guid id, SupportTicketResponseRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var response = await mediator.Send(new RespondToSupportTicket(http.ToOperatorCaller(), id, body.Body ?? ""), ct);
        return TypedResults.Created($"/v1/admin/support-tickets/{id}", SupportTicketCommentResponse.From(response));
    }

    private static async Task<Ok<SupportTicketResponse>> ChangeStatusAsync(
        Guid id, ChangeSupportTicketStatusRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new ChangeSupportTicketStatus(http.ToOperatorCaller(), id, body.Status ?? "", body.Resolution), ct)));

    private static async Task<Ok<SupportTicketResponse>> ResolveAsync(
        Guid id, ResolveSupportTicketRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new ChangeSupportTicketStatus(http.ToOperatorCaller(), id, "resolved", body.Resolution ?? ""), ct)));
}
