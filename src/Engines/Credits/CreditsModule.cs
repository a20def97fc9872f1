using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Credits;

/// <summary>Registers credits: its settings (section "Credits"); the monthly grant runs in billing's lifecycle job (GrantMonthlyCredits).</summary>
internal sealed class CreditsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddFeatureOptions<CreditsOptions>("Credits");
}
