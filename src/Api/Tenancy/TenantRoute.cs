using MediatR;
using Microsoft.OpenApi;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.Tenancy;

/// <summary>Resolves the {tenant_id} of tenant-scoped routes: a UUID, or the literal "current" taken from the API key, the X-Tenant-ID header or the Host ({slug}.{base host}). Membership is checked by the engine the handler calls (404 for non-members).</summary>
/// <remarks>A signed-in user's request is then admitted by <see cref="Engines.Usage.AdmitUserRequest"/>: the per-user rate limit and the
/// api_calls count (ADR 0715). Key requests were counted when the key authenticated.</remarks>
internal sealed class TenantRouteFilter(TenantHosts hosts, IMediator mediator) : IEndpointFilter
{
    public const string RouteKey = "tenant_id";
    public const string HeaderName = "X-Tenant-ID";
    private const string ItemKey = "platform.tenant_id";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var raw = http.Request.RouteValues[RouteKey] as string;
        http.Items[ItemKey] = raw == "current"
            ? await ResolveCurrentAsync(http)
            : Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("tenant");
        if (http.User.KeyTenantId() is null && http.User.UserId() is { } userId)
        {
            // A non-member is neither limited nor counted here; the route's engine answers 404.
            await mediator.Send(new Engines.Usage.AdmitUserRequest(TenantId(http), userId), http.RequestAborted);
        }
        return await next(context);
    }

    public static Guid TenantId(HttpContext http) =>
        http.Items[ItemKey] as Guid? ?? throw new InvalidOperationException("The tenant route filter did not run for this endpoint.");

    private async Task<Guid> ResolveCurrentAsync(HttpContext http)
    {
        // A key implies its tenant and may not name another one.
        if (http.User.KeyTenantId() is { } keyTenantId)
        {
            if (http.Request.Headers.TryGetValue(HeaderName, out var named) && !(Guid.TryParse(named.ToString(), out var namedId) && namedId == keyTenantId))
            {
                throw new NotFoundException("tenant");
            }
            return keyTenantId;
        }
        if (http.Request.Headers.TryGetValue(HeaderName, out var header))
        {
            return Guid.TryParse(header.ToString(), out var id) ? id : throw new NotFoundException("tenant");
        }
        return await hosts.FindAsync(http.Request.Host.Host, http.RequestAborted) ?? throw new NotFoundException("tenant");
    }
}

/// <summary>Maps the route groups of tenant-scoped routes.</summary>
public static class TenantRoutes
{
    /// <summary>Describes the {tenant_id} path parameter in the OpenAPI document.</summary>
    public const string TenantIdDescription =
        "The tenant's id (a UUID), or `current`: the API key's tenant, else the X-Tenant-ID header, else the tenant whose slug is the Host's subdomain.";

    /// <summary>Maps a group under /v1/tenants/{tenant_id}{prefix} that requires a signed-in caller or an API key, resolves the tenant id,
    /// declares the tenant_id path parameter on every operation and the refusals every tenant route can give.</summary>
    public static RouteGroupBuilder MapTenantGroup(this IEndpointRouteBuilder routes, string prefix) =>
        routes.MapGroup("/v1/tenants/{" + TenantRouteFilter.RouteKey + "}" + prefix)
            .RequireAuthorization()
            .AddEndpointFilter<TenantRouteFilter>()
            .AddEndpointFilter<IpAllowlists.IpAllowlistFilter>()
            .RefusesAsTenantRoute()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters ??= [];
                if (!operation.Parameters.Any(p => p.In == ParameterLocation.Path && p.Name == TenantRouteFilter.RouteKey))
                {
                    operation.Parameters.Insert(0, new OpenApiParameter
                    {
                        Name = TenantRouteFilter.RouteKey,
                        In = ParameterLocation.Path,
                        Required = true,
                        Description = TenantIdDescription,
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                }
                return Task.CompletedTask;
            });
}

/// <summary>Binds what every tenant route needs, with [AsParameters]: the caller, the tenant id the route names, the mediator and the
/// request's cancellation (the shape of eShop's OrderServices), instead of the same preamble in every handler.</summary>
/// <remarks>The tenant id is the one <see cref="TenantRouteFilter"/> resolved ("current" included), so only routes of
/// <see cref="TenantRoutes.MapTenantGroup"/> take it.</remarks>
public sealed record TenantRequest(HttpContext Http, IMediator Mediator, CancellationToken CancellationToken)
{
    /// <summary>Gets the tenant the route names, as the tenant route filter resolved it.</summary>
    public Guid TenantId => TenantRouteFilter.TenantId(Http);

    /// <summary>Gets the caller of this request (user or API key) with its origin for the audit log.</summary>
    public Caller Caller => Http.ToCaller();

    /// <summary>Sends a command or query to the engines with the request's cancellation.</summary>
    public Task<TResponse> Send<TResponse>(IRequest<TResponse> request) => Mediator.Send(request, CancellationToken);
}
