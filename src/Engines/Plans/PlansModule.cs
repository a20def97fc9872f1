using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Caching;
using Platform.Engines.Hosting;

namespace Platform.Engines.Plans;

/// <summary>Registers plans and quotas: the quota and feature override changes and the tenant feature cache.</summary>
internal sealed class PlansModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<QuotaOverrideChanges>();
        services.AddSingleton<MeterCatalog>();
        services.AddSingleton<FeatureOverrideChanges>();
        services.AddSingleton<TenantAccessChanges>();
        services.AddNotifiedCache<TenantFeatureCache>();
    }
}
