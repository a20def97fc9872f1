using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.HttpOverrides;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Engines.IpAllowlists;
using Platform.Models.Errors;
using Platform.Models.IpAllowlists;
using Platform.Models.Plans;

namespace Platform.Api.IpAllowlists;

/// <summary>Maps a tenant's IP allowlist (owner or admin; plan feature ip_allowlist; ADR 0551).</summary>
public sealed class IpAllowlistsApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var allowlist = routes.MapTenantGroup("/ip-allowlist").WithTags("IpAllowlists");
        allowlist.MapGet("/", GetAsync).RequireFeature(Features.IpAllowlist)
            .WithName("getIpAllowlist")
            .WithSummary("Get the tenant's IP allowlist: the CIDRs its users and keys must call from (empty: any address)")
            .WithDescription("Needs the admin role or higher; API keys cannot.");
        allowlist.MapPut("/", ReplaceAsync).RequireFeature(Features.IpAllowlist)
            .WithName("replaceIpAllowlist")
            .WithSummary("Replace the tenant's IP allowlist (at most 100 CIDRs, IPv4 or IPv6, each with an optional description)")
            .WithDescription("Needs the admin role or higher. Once saved, every tenant route answers 403 `ip_not_allowed` to callers from other addresses. "
                + "A list that leaves out the caller's own address is refused with 409 `would_lock_out` unless `confirm_lockout` is true.")
            .RefusesBody("`validation_failed`: entries is missing or longer than 100, or an entry's cidr is not an address or network (`errors` names `entries[i].cidr`); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status409Conflict, "`would_lock_out`: the list does not include the caller's own address (`client_address`); send confirm_lockout true to save it anyway.");
    }

    private static async Task<Ok<IpAllowlistResponse>> GetAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(IpAllowlistResponse.From(await request.Send(new GetIpAllowlist(request.Caller, request.TenantId))));

    private static async Task<Ok<IpAllowlistResponse>> ReplaceAsync([AsParameters] TenantRequest request, IpAllowlistRequest body)
    {
        if (body.Entries is not null && body.Entries.Any(e => e is null))
        {
            throw ValidationFailedException.For("entries", "An entry must be an object with a cidr.");
        }
        var entries = body.Entries?.Select(e => new IpAllowlistEntry(e.Cidr!, e.Description)).ToList();
        var saved = await request.Send(new ReplaceIpAllowlist(request.Caller, request.TenantId, entries,
            request.Http.Connection.RemoteIpAddress, body.ConfirmLockout ?? false));
        return TypedResults.Ok(IpAllowlistResponse.From(saved));
    }
}

/// <summary>Is the body of an allowlist replacement.</summary>
public sealed record IpAllowlistRequest(IReadOnlyList<IpAllowlistEntryRequest>? Entries, bool? ConfirmLockout = null);

/// <summary>Is one entry of an allowlist replacement: a CIDR (an address alone is /32 or /128) and an optional description.</summary>
public sealed record IpAllowlistEntryRequest(string? Cidr, string? Description = null);

/// <summary>Is the wire form of a tenant's allowlist.</summary>
public sealed record IpAllowlistResponse(IReadOnlyList<IpAllowlistEntry> Entries)
{
    public static IpAllowlistResponse From(IReadOnlyList<IpAllowlistEntry> entries) => new(entries);
}

/// <summary>Refuses a tenant route with 403 ip_not_allowed when the tenant's allowlist is enforced and leaves out the caller's address; a caller who is
/// no member still gets 404 (the refusal is confirmed by the membership-checked entitlements).</summary>
internal sealed class IpAllowlistFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var mediator = http.RequestServices.GetRequiredService<MediatR.IMediator>();
        var tenantId = TenantRouteFilter.TenantId(http);
        var address = http.Connection.RemoteIpAddress;
        if (!await mediator.Send(new CheckClientAddress(tenantId, address), http.RequestAborted))
        {
            await mediator.Send(new Platform.Engines.Plans.GetEntitlements(Auth.CallerExtensions.ToCaller(http), tenantId), http.RequestAborted);
            throw new ForbiddenException($"The tenant's IP allowlist does not include this address ({address?.ToString() ?? "unknown"}).", "ip_not_allowed")
            {
                Extensions = new Dictionary<string, object?> { ["client_address"] = address?.ToString() },
            };
        }
        return await next(context);
    }
}

/// <summary>Takes the client's address from X-Forwarded-For only when the connection comes from a proxy of Network:KnownProxies (off when none).</summary>
public static class ClientAddress
{
    /// <summary>Adds ASP.NET Core's forwarded headers middleware for the configured known proxies, or nothing when there are none.</summary>
    public static WebApplication UseClientAddress(this WebApplication app)
    {
        var proxies = app.Services.GetRequiredService<NetworkOptions>().ProxyNetworks() ?? [];
        if (proxies.Count == 0)
        {
            return app;
        }
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor };
        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var network in proxies)
        {
            options.KnownIPNetworks.Add(network);
        }
        app.UseForwardedHeaders(options);
        return app;
    }
}
