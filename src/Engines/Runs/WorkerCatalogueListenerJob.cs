using Microsoft.Extensions.Hosting;
using Platform.Drivers.Runs;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Runs;

/// <summary>Drops this instance's copy of the worker catalogue when any instance changes it (PostgreSQL NOTIFY on
/// <see cref="IWorkerDriver.CatalogueChannel"/>), and whenever the listening connection is lost or comes back (a change may have been missed).</summary>
internal sealed class WorkerCatalogueListenerJob(IChannelListener listener, WorkerRegistry registry) : BackgroundService
{
    private static readonly string[] Channels = [IWorkerDriver.CatalogueChannel];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        listener.ListenAsync(Channels, registry.Invalidate, (_, _) => registry.Invalidate(), registry.Invalidate, stoppingToken);
}
