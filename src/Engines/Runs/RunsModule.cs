using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Runs;

/// <summary>Registers runs and workers: their settings (Platform:RunTimeoutSeconds), the worker registry with its change listener, and the run timeout job.</summary>
internal sealed class RunsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<RunsOptions>("Platform");
        services.AddSingleton<WorkerRegistry>();
        services.AddHostedService<WorkerCatalogueListenerJob>();
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<RunTimeoutJob>();
}
