using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Audit;

namespace Platform.Api.Endpoints;

/// <summary>Maps a tenant's audit log: newest first, filtered by action, actor and time range, with cursor pagination.</summary>
public static class AuditLogApi
{
    public static IEndpointRouteBuilder MapAuditLogApi(this IEndpointRouteBuilder routes)
    {
        routes.MapTenantGroup("/audit-log").WithTags("Audit log").MapGet("/", ListAsync);
        return routes;
    }

    private static async Task<Ok<ListResponse<AuditRecordResponse>>> ListAsync(
        HttpContext http, IMediator mediator, string? action, string? actor, DateTimeOffset? from, DateTimeOffset? to, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(
            new ListAuditLog(http.ToCaller(), TenantRouteFilter.TenantId(http), action, actor, from, to, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<AuditRecordResponse>.From(page, AuditRecordResponse.From));
    }
}
