using MediatR;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Caching;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Engines.Plans;

/// <summary>Reads the features a tenant has now (plan while in trial, active or past due, then operator overrides) from this instance's cache,
/// filled from the database on a miss; it checks no membership: the feature gate asks it first and confirms a refusal with <see cref="GetEntitlements"/>.</summary>
public sealed record GetTenantFeatures(Guid TenantId) : IRequest<TenantFeatureSet>, ITenantRead;

/// <summary>Holds the features a tenant has now and its plan.</summary>
public sealed record TenantFeatureSet(Guid TenantId, string PlanId, IReadOnlySet<string> Features);

/// <summary>Caches each tenant's features while the change listener is connected; a change of the tenant's plan, status or feature overrides
/// (NOTIFY on the tenant access channel, from triggers and engines) drops its entry on every instance.</summary>
internal sealed class TenantFeatureCache(IClock clock)
    : NotifiedCache<Guid, TenantFeatureSet>(clock, IFeatureOverrideDriver.TenantAccessChannel, (tenantId, _) => tenantId);

internal sealed class GetTenantFeaturesHandler(TenantFeatureCache cache, IDbSessionFactory sessions, ITenantDriver tenants, IFeatureOverrideDriver features)
    : IRequestHandler<GetTenantFeatures, TenantFeatureSet>
{
    public async Task<TenantFeatureSet> Handle(GetTenantFeatures query, CancellationToken cancellationToken)
    {
        if (cache.TryGet(query.TenantId, out var cached))
        {
            return cached;
        }
        var generation = cache.Generation;
        await using var session = await sessions.OpenAsync(query.TenantId, null, cancellationToken);
        var tenant = await tenants.FetchTenantAsync(session, query.TenantId, cancellationToken) ?? throw new NotFoundException("tenant");
        var overrides = await features.ListFeatureOverridesAsync(session, query.TenantId, cancellationToken);
        var set = new TenantFeatureSet(tenant.Id, tenant.Plan,
            Features.EffectiveOf(EntitlementRules.PlanOf(tenant.Plan), tenant.Status, tenant.SuspendedReason, overrides));
        cache.Store(query.TenantId, set, generation);
        return set;
    }
}

/// <summary>Announces, inside a tenant scope, that what the tenant may use changed (plan, status, feature overrides, IP allowlist): every instance
/// drops its cached entries of the tenant, and the scope's commit waits until they all acknowledged, so the next request anywhere sees the change.</summary>
internal sealed class TenantAccessChanges(IChangeNoticeDriver notices, TenantFeatureCache cache)
{
    public async Task AnnounceAsync(TenantScope scope, CancellationToken cancellationToken) =>
        scope.AfterCommit(await NotifiedChanges.AnnounceAsync(notices, cache, scope.Session, scope.Tenant.Id, cancellationToken));
}
