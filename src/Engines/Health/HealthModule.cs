using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Health;

/// <summary>Registers health: the heartbeat job that proves a job host is alive and connected, and the job lag gauges of /metrics.</summary>
internal sealed class HealthModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<GaugeOptions>("Metrics");
        services.AddSingleton<WarmUpSandboxes>();
        services.AddHostedService<JobLagGauges>();
        services.AddHostedService<DatabaseUpGauge>();
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<HeartbeatJob>();
}
