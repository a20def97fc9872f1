using MediatR;
using Microsoft.Extensions.Options;
using Platform.Api.Auth;
using Platform.Api.Hosting;
using Platform.Engines.Tenants;
using Platform.Models.Errors;

namespace Platform.Api.Tenancy;

/// <summary>Resolves the {tenant_id} of tenant-scoped routes: a UUID, or the literal "current" taken from the API key, the X-Tenant-ID header or the Host ({slug}.{base host}). Membership is checked by the engine the handler calls (404 for non-members).</summary>
internal sealed class TenantRouteFilter(IMediator mediator, IOptions<PlatformOptions> options) : IEndpointFilter
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
        var baseHost = options.Value.BaseHost;
        var host = http.Request.Host.Host;
        if (baseHost.Length > 0 && host.EndsWith("." + baseHost, StringComparison.OrdinalIgnoreCase))
        {
            var slug = host[..^(baseHost.Length + 1)].ToLowerInvariant();
            if (Platform.Models.Tenants.Slugs.IsValid(slug))
            {
                return await mediator.Send(new ResolveTenantSlug(slug), http.RequestAborted);
            }
        }
        throw new NotFoundException("tenant");
    }
}
