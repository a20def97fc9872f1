using MediatR;
using Platform.Api.Hosting;
using Platform.Engines.Domains;
using Platform.Engines.Tenants;
using Platform.Models.Errors;

namespace Platform.Api.Tenancy;

/// <summary>Finds the tenant a Host name stands for: {slug}.{Platform:BaseHost}, or a verified custom domain of a tenant that has the custom_domain
/// feature now (ADR 0631); null when it names none.</summary>
public sealed class TenantHosts(IMediator mediator, PlatformOptions options)
{
    /// <summary>Gives the tenant id of the host (port and trailing dot ignored, any case), or null when no tenant is reached by that name.</summary>
    public async Task<Guid?> FindAsync(string host, CancellationToken cancellationToken)
    {
        var name = Normalise(host);
        if (name is null)
        {
            return null;
        }
        var baseHost = options.BaseHost.TrimEnd('.').ToLowerInvariant();
        if (baseHost.Length > 0 && name.EndsWith("." + baseHost, StringComparison.Ordinal))
        {
            var slug = name[..^(baseHost.Length + 1)];
            if (!Platform.Models.Tenants.Slugs.IsValid(slug))
            {
                return null;
            }
            try
            {
                return await mediator.Send(new ResolveTenantSlug(slug), cancellationToken);
            }
            catch (NotFoundException)
            {
                return null;
            }
        }
        return await mediator.Send(new ResolveDomainHost(name), cancellationToken);
    }

    /// <summary>Gives the host in lower case without a port or a trailing dot, or null when it is empty or too long to be a DNS name.</summary>
    public static string? Normalise(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }
        var name = host.Trim();
        // host:port (a bracketed IPv6 literal names no tenant anyway).
        var colon = name.LastIndexOf(':');
        if (colon > 0 && name.IndexOf(':') == colon)
        {
            name = name[..colon];
        }
        name = name.TrimEnd('.').ToLowerInvariant();
        return name.Length is > 0 and <= 253 ? name : null;
    }
}
