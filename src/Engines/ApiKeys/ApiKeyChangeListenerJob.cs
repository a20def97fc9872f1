using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;

namespace Platform.Engines.ApiKeys;

/// <summary>Keeps the API key cache honest on this instance: LISTENs for key changes from every instance, drops changed keys and acknowledges it (so the changing instance can wait for everyone), and empties the cache whenever the connection is lost or comes back.</summary>
/// <remarks>Not a <see cref="Hosting.PeriodicJob"/>: nothing here runs on a timer. It holds one LISTEN connection for the life of the host and
/// reacts to notifications as they arrive; waiting for a tick would leave a revoked key cached for up to that long on this instance.</remarks>
internal sealed class ApiKeyChangeListenerJob(
    IChannelListener listener, ApiKeyCache cache, IDbSessionFactory sessions, IApiKeyDriver keys, ILogger<ApiKeyChangeListenerJob> logger)
    : BackgroundService
{
    private readonly Channel<Guid> dropped = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            listener.ListenAsync(IApiKeyDriver.ListenerChannels, cache.StartServing, (_, payload) => OnNotification(payload), cache.StopServing, stoppingToken),
            AcknowledgeAsync(stoppingToken));

    private void OnNotification(string payload)
    {
        if (payload.StartsWith(IApiKeyDriver.DroppedPrefix, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(IApiKeyDriver.DroppedPrefix.Length), out var droppedId))
        {
            cache.OnAcknowledged(droppedId);
        }
        else if (payload.StartsWith(IApiKeyDriver.ChangedPrefix, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(IApiKeyDriver.ChangedPrefix.Length), out var changedId))
        {
            cache.Invalidate(changedId);
            dropped.Writer.TryWrite(changedId);
        }
        else
        {
            // Unknown payload: trust nothing cached.
            cache.StopServing();
            cache.StartServing();
        }
    }

    private async Task AcknowledgeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var keyId in dropped.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var session = await sessions.OpenAsync(null, null, stoppingToken);
                    await keys.NotifyApiKeyDroppedAsync(session, keyId, stoppingToken);
                    await session.CommitAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Acknowledging the change of API key {KeyId} failed", keyId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
