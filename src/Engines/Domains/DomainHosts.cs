using MediatR;
using Platform.Drivers.Domains;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Caching;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Domains;

/// <summary>Finds the tenant a custom domain name reaches: a verified domain of a tenant that is in trial, active or past due and has the custom_domain
/// feature now; null for any other name (unknown, pending, failed, or a tenant without the feature). Served from this instance's cache.</summary>
/// <remarks>Both the TLS "ask" endpoint (may the proxy get a certificate for this name?) and Host resolution of `current` tenant routes use it.</remarks>
public sealed record ResolveDomainHost(string Name) : IRequest<Guid?>;

/// <summary>Holds a cached resolution: the tenant of a verified domain and whether it may use it now.</summary>
public sealed record DomainHost(Guid TenantId, bool Allowed);

/// <summary>Caches verified domain names by name while the change listener is connected; a change of the tenant's domains, plan, status or feature
/// overrides (NOTIFY on the tenant access channel) drops every name of that tenant on every instance. Unknown names are not cached, so a newly
/// verified domain is found at once.</summary>
internal sealed class DomainHostCache(IClock clock)
    : NotifiedCache<string, DomainHost>(clock, IFeatureOverrideDriver.TenantAccessChannel, (_, host) => host.TenantId);

internal sealed class ResolveDomainHostHandler(DomainHostCache cache, IDbSessionFactory sessions, ICustomDomainDriver domains, ITenantDriver tenants,
    IFeatureOverrideDriver features) : IRequestHandler<ResolveDomainHost, Guid?>
{
    public async Task<Guid?> Handle(ResolveDomainHost query, CancellationToken cancellationToken)
    {
        var name = DomainNames.Normalise(query.Name, out _);
        if (name is null)
        {
            return null;
        }
        if (!cache.TryGet(name, out var host))
        {
            var generation = cache.Generation;
            (Guid TenantId, Guid DomainId)? found;
            await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
            {
                found = await domains.FindVerifiedTenantAsync(lookup, name, cancellationToken);
            }
            if (found is not { } verified)
            {
                return null;
            }
            await using var session = await sessions.OpenAsync(verified.TenantId, null, cancellationToken);
            var tenant = await tenants.FetchTenantAsync(session, verified.TenantId, cancellationToken);
            var allowed = false;
            if (tenant is { Status: TenantStatus.Trial or TenantStatus.Active or TenantStatus.PastDue, DeletedAt: null } && PlanCatalog.Find(tenant.Plan) is { } plan)
            {
                var overrides = await features.ListFeatureOverridesAsync(session, tenant.Id, cancellationToken);
                allowed = Features.EffectiveOf(plan, tenant.Status, tenant.SuspendedReason, overrides).Contains(Features.CustomDomain);
            }
            host = new DomainHost(verified.TenantId, allowed);
            cache.Store(name, host, generation);
        }
        return host.Allowed ? host.TenantId : null;
    }
}
