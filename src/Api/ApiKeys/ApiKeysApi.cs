using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.ApiKeys;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.ApiKeys;

/// <summary>Maps the API key routes of a tenant (admin): create (the secret shown once; service keys by owners), list (never the secret; with each key's creator), revoke.</summary>
public sealed class ApiKeysApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var keys = routes.MapTenantGroup("/api-keys").WithTags("ApiKeys");
        keys.MapPost("/", CreateAsync).WithIdempotency()
            .WithName("createApiKey")
            .WithSummary("Create an API key; its secret is shown this once")
            .WithDescription("Needs the admin role or higher (the owner role for a service key, which outlives its creator's membership); refused while the tenant is suspended. API keys cannot create keys.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission + " Also when a non-owner asks for a service key.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`quota_exceeded`: the tenant has as many active keys as its max_api_keys quota allows; " + ProblemResponses.KeyThrottled);
        keys.MapGet("/", ListAsync)
            .WithName("listApiKeys")
            .WithSummary("List a tenant's API keys with their creators (never the secrets)")
            .WithDescription("Needs the admin role or higher; API keys cannot list keys.");
        keys.MapDelete("/{key_id}", RevokeAsync)
            .WithName("revokeApiKey")
            .WithSummary("Revoke an API key")
            .WithDescription("Needs the admin role or higher; works while the tenant is suspended, so that a leaked key can always be revoked. The body (a reason) is optional.")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, ProblemResponses.NotATenantOfYours + " Also when the key is not this tenant's.")
            .Refuses(StatusCodes.Status409Conflict, "`already_revoked`: the key is already revoked.");
    }

    private static async Task<Created<CreatedApiKeyResponse>> CreateAsync(CreateApiKeyRequest body, [AsParameters] TenantRequest request, IClock clock)
    {
        var created = await request.Send(new CreateApiKey(
            request.Caller, request.TenantId, body.Name ?? "", body.Permissions ?? [], body.AllowedWorkers, body.RateLimitRpm,
            body.MaxConcurrentRuns, body.ExpiresAt, body.ServiceKey ?? false));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/api-keys/{created.Key.Id}", CreatedApiKeyResponse.From(created, clock.UtcNow));
    }

    private static async Task<Ok<ListResponse<ApiKeyResponse>>> ListAsync([AsParameters] TenantRequest request, IClock clock, string? cursor, int? limit)
    {
        var page = await request.Send(new ListApiKeys(request.Caller, request.TenantId, cursor, limit ?? Paging.DefaultLimit));
        var now = clock.UtcNow;
        return TypedResults.Ok(ListResponse<ApiKeyResponse>.From(page, k => ApiKeyResponse.From(k, now)));
    }

    private static async Task<Ok<ApiKeyResponse>> RevokeAsync(string key_id, [FromBody] RevokeApiKeyRequest? body, [AsParameters] TenantRequest request, IClock clock)
    {
        var keyId = Guid.TryParse(key_id, out var id) ? id : throw new NotFoundException("API key");
        var revoked = await request.Send(new RevokeApiKey(request.Caller, request.TenantId, keyId, body?.Reason));
        return TypedResults.Ok(ApiKeyResponse.From(revoked, clock.UtcNow));
    }
}
