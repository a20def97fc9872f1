using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Health;

/// <summary>Registers health: the heartbeat job that proves a job host is alive and connected.</summary>
internal sealed class HealthModule : IFeatureModule
{
    public void AddJobs(IServiceCollection services) => services.AddHostedService<HeartbeatJob>();
}
