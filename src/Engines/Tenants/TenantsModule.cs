using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Tenants;

/// <summary>Registers tenants: the suspension rules and the fair-use limits of creation (keys of section "FairUse").</summary>
internal sealed class TenantsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<TenantSuspension>();
        services.AddFeatureOptions<FairUseOptions>("FairUse");
    }
}
