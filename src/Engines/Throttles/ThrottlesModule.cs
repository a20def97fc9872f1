using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Throttles;

/// <summary>Registers the counting of secret checks: the limits (keys of section "Auth") and the throttle.</summary>
internal sealed class ThrottlesModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<AuthThrottleOptions>("Auth");
        services.AddSingleton<AuthThrottle>();
    }
}
