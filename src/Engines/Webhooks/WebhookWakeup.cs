using Microsoft.Extensions.Hosting;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Hosting;

namespace Platform.Engines.Webhooks;

/// <summary>Tells this process's dispatcher that new deliveries were committed (ADR 0700, 0760).</summary>
internal sealed class WebhookWakeup : JobWakeup;

/// <summary>Wakes the dispatcher when PostgreSQL announces committed webhook events (NOTIFY on <see cref="IWebhookEventDriver.DueChannel"/>,
/// db/0700), and when the listening connection comes back or is lost (a notice may have been missed; the poll finds the deliveries anyway).</summary>
internal sealed class WebhookWakeupListenerJob(IChannelListener listener, WebhookWakeup wakeup) : BackgroundService
{
    private static readonly string[] Channels = [IWebhookEventDriver.DueChannel];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        listener.ListenAsync(Channels, wakeup.Signal, (_, _) => wakeup.Signal(), wakeup.Signal, stoppingToken);
}
