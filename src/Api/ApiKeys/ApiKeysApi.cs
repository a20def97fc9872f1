using MediatR;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.ApiKeys;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps the API key routes of a tenant (admin): create (the secret shown once; service keys by owners), list (never the secret; with each key's creator), revoke.</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder routes)
    {
        var keys = routes.MapTenantGroup("/api-keys").WithTags("API keys");
        keys.MapPost("/", CreateAsync).WithIdempotency();
        keys.MapGet("/", ListAsync);
        keys.MapDelete("/{key_id}", RevokeAsync);
        return routes;
    }

    private static async Task<Created<CreatedApiKeyResponse>> CreateAsync(CreateApiKeyRequest body, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct)
    {
        var tenantId = TenantRouteFilter.TenantId(http);
        var created = await mediator.Send(new CreateApiKey(
            http.ToCaller(), tenantId, body.Name ?? "", body.Permissions ?? [], body.AllowedWorkers, body.RateLimitRpm,
            body.MaxConcurrentRuns, body.ExpiresAt, body.ServiceKey ?? false), ct);
        return TypedResults.Created($"/v1/tenants/{tenantId}/api-keys/{created.Key.Id}", CreatedApiKeyResponse.From(created, clock.UtcNow));
    }

    private static async Task<Ok<ListResponse<ApiKeyResponse>>> ListAsync(HttpContext http, IMediator mediator, IClock clock, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListApiKeys(http.ToCaller(), TenantRouteFilter.TenantId(http), cursor, limit ?? Paging.DefaultLimit), ct);
        var now = clock.UtcNow;
        return TypedResults.Ok(ListResponse<ApiKeyResponse>.From(page, k => ApiKeyResponse.From(k, now)));
    }

    private static async Task<Ok<ApiKeyResponse>> RevokeAsync(string key_id, [FromBody] RevokeApiKeyRequest? body, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct)
    {
        var keyId = Guid.TryParse(key_id, out var id) ? id : throw new NotFoundException("API key");
        var revoked = await mediator.Send(new RevokeApiKey(http.ToCaller(), TenantRouteFilter.TenantId(http), keyId, body?.Reason), ct);
        return TypedResults.Ok(ApiKeyResponse.From(revoked, clock.UtcNow));
    }
}
