using Microsoft.Extensions.Hosting;

namespace Platform.Engines.Webhooks;

/// <summary>Runs this process's webhook dispatcher pipeline (<see cref="WebhookDispatcher"/>) for the life of the host. Any number of copies may run, in the
/// API and in src/Worker: deliveries are leased with FOR UPDATE SKIP LOCKED.</summary>
/// <remarks>Not a <see cref="Hosting.PeriodicJob"/>: the pipeline does not run in ticks. Its claimer is woken by a NOTIFY on a LISTEN connection it holds
/// for the life of the host and claims again whenever send slots free up; a tick would add its interval to every delivery's latency (ADR 0540).</remarks>
internal sealed class WebhookDispatchJob(WebhookDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
