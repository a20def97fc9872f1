using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Plans;

/// <summary>Registers plans and quotas: the quota override change log.</summary>
internal sealed class PlansModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddSingleton<QuotaOverrideChanges>();
}
