using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Runs;

/// <summary>Registers runs and workers: the worker registry and the run timeout job.</summary>
internal sealed class RunsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddSingleton<WorkerRegistry>();

    public void AddJobs(IServiceCollection services) => services.AddHostedService<RunTimeoutJob>();
}
