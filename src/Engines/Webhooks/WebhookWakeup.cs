using Microsoft.Extensions.Hosting;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Tells this process's dispatch lanes that new deliveries were committed (ADR 0700): <see cref="Next"/> completes at the next
/// <see cref="Signal"/>. A lane takes <see cref="Next"/> before it claims and waits on it (or the poll interval) after, so a notice that
/// arrives during its round is not lost.</summary>
internal sealed class WebhookWakeup
{
    private TaskCompletionSource signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes at the next signal.</summary>
    public Task Next => Volatile.Read(ref signal).Task;

    /// <summary>Completes the current <see cref="Next"/> and arms a new one.</summary>
    public void Signal() =>
        Interlocked.Exchange(ref signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

/// <summary>Wakes the dispatch lanes when PostgreSQL announces committed webhook events (NOTIFY on <see cref="IWebhookEventDriver.DueChannel"/>,
/// db/0700), and when the listening connection comes back or is lost (a notice may have been missed; the poll finds the deliveries anyway).</summary>
internal sealed class WebhookWakeupListenerJob(IChannelListener listener, WebhookWakeup wakeup) : BackgroundService
{
    private static readonly string[] Channels = [IWebhookEventDriver.DueChannel];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        listener.ListenAsync(Channels, wakeup.Signal, (_, _) => wakeup.Signal(), wakeup.Signal, stoppingToken);
}
