using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Tenants;
using Platform.Models.Tenants;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps the tenant routes: create, list, get, update and soft delete.</summary>
public static class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder routes)
    {
        var tenants = routes.MapGroup("/v1/tenants").WithTags("Tenants").RequireAuthorization();
        tenants.MapPost("/", CreateAsync).WithIdempotency();
        tenants.MapGet("/", ListAsync);

        var tenant = routes.MapTenantGroup("").WithTags("Tenants");
        tenant.MapGet("/", GetAsync);
        tenant.MapPatch("/", UpdateAsync);
        tenant.MapDelete("/", DeleteAsync);
        return routes;
    }

    /// <summary>Maps a group under /v1/tenants/{tenant_id}{prefix} that requires a signed-in caller and resolves the tenant id.</summary>
    public static RouteGroupBuilder MapTenantGroup(this IEndpointRouteBuilder routes, string prefix) =>
        routes.MapGroup("/v1/tenants/{tenant_id}" + prefix).RequireAuthorization().AddEndpointFilter<TenantRouteFilter>();

    private static async Task<Created<TenantResponse>> CreateAsync(CreateTenantRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var created = await mediator.Send(new CreateTenant(http.ToCaller(), body.Name ?? "", body.Slug ?? "", body.Plan, body.BillingEmail), ct);
        return TypedResults.Created($"/v1/tenants/{created.Tenant.Id}", TenantResponse.From(created));
    }

    private static async Task<Ok<ListResponse<TenantResponse>>> ListAsync(HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListMyTenants(http.ToCaller(), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<TenantResponse>.From(page, TenantResponse.From));
    }

    private static async Task<Ok<TenantResponse>> GetAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var tenant = await mediator.Send(new GetTenant(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }

    private static async Task<Ok<TenantResponse>> UpdateAsync(UpdateTenantRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var changes = new TenantChanges(body.Name, body.BillingEmail, body.Settings?.GetRawText(), body.OnboardingState);
        var tenant = await mediator.Send(new UpdateTenant(http.ToCaller(), TenantRouteFilter.TenantId(http), changes), ct);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }

    private static async Task<Ok<TenantResponse>> DeleteAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var deleted = await mediator.Send(new DeleteTenant(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        return TypedResults.Ok(TenantResponse.From(deleted, TenantRole.Owner));
    }
}
