using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Tenants;

/// <summary>Registers tenants: the suspension rules.</summary>
internal sealed class TenantsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddSingleton<TenantSuspension>();
}
