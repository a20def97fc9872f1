using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Audit;

namespace Platform.Api.Audit;

/// <summary>Maps a tenant's audit log: newest first, filtered by action, actor and time range, with cursor pagination.</summary>
public sealed class AuditApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes) =>
        routes.MapTenantGroup("/audit-log").WithTags("Audit").MapGet("/", ListAsync)
            .WithName("listAuditLog")
            .WithSummary("List a tenant's audit log, newest first")
            .WithDescription("Needs the admin role or higher; API keys cannot read it. Filters by action, actor (user id, or a type such as api_key) and time range [from, to).");

    private static async Task<Ok<ListResponse<AuditRecordResponse>>> ListAsync(
        [AsParameters] TenantRequest request, string? action, string? actor, DateTimeOffset? from, DateTimeOffset? to, string? cursor, int? limit)
    {
        var page = await request.Send(new ListAuditLog(request.Caller, request.TenantId, action, actor, from, to, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<AuditRecordResponse>.From(page, AuditRecordResponse.From));
    }
}
