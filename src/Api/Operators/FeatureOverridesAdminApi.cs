using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Engines.Operators;
using Platform.Models.Errors;

namespace Platform.Api.Operators;

/// <summary>Maps the operators' per-tenant feature overrides: grant or revoke one feature whatever the plan says, or clear the override, each a reversible founder action (ADR 0550).</summary>
public sealed class FeatureOverridesAdminApi : IEndpointGroup
{
    private const string ReasonInvalid = "`validation_failed`: reason_code is missing or not a lower_snake_case code, enabled is missing, or the feature is unknown (`errors` names it); or text PostgreSQL cannot store.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin", "Operators");
        admin.MapPut("/tenants/{tenant_id:guid}/features/{feature}", SetAsync)
            .WithName("setFeatureOverride")
            .WithSummary("Grant (enabled true) or revoke (false) one feature for a tenant whatever its plan says, as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code. Every instance stops or starts serving the feature before the answer.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant has this id.");
        admin.MapDelete("/tenants/{tenant_id:guid}/features/{feature}", ClearAsync)
            .WithName("clearFeatureOverride")
            .WithSummary("Remove a tenant's feature override (its plan decides again), as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code (in the optional body).")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant has this id, or it has no override of this feature.");
    }

    private static async Task<Created<FounderActionResponse>> SetAsync(
        Guid tenant_id, string feature, FeatureOverrideActionRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var enabled = body.Enabled ?? throw ValidationFailedException.For("enabled", "enabled is required (true grants the feature, false revokes it).");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FeatureOverrideActionTypes.Set,
            $"{tenant_id}/{feature}", body.ReasonCode ?? "", body.ReasonNote, enabled), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> ClearAsync(
        Guid tenant_id, string feature, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FeatureOverrideActionTypes.Clear,
            $"{tenant_id}/{feature}", body?.ReasonCode ?? "", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }
}

/// <summary>Is the body of a feature override: enabled grants, false revokes; with the founder action's reason.</summary>
public sealed record FeatureOverrideActionRequest(bool? Enabled, string? ReasonCode, string? ReasonNote = null);

/// <summary>Maps the operators' rescue of a tenant locked out by its IP allowlist: clear it, as a reversible founder action (ADR 0551).</summary>
public sealed class IpAllowlistAdminApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin", "Operators");
        admin.MapPost("/tenants/{tenant_id:guid}/ip-allowlist/clear", ClearAsync)
            .WithName("clearIpAllowlist")
            .WithSummary("Empty a tenant's IP allowlist (the rescue of a tenant locked out), as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code; reversing it puts the cleared entries back.")
            .RefusesBody("`validation_failed`: reason_code is missing or not a lower_snake_case code; or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no tenant has this id.");
    }

    private static async Task<Created<FounderActionResponse>> ClearAsync(
        Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), IpAllowlistActionTypes.Clear,
            tenant_id.ToString(), body.ReasonCode ?? "", body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }
}
