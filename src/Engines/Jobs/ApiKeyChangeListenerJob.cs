using Microsoft.Extensions.Hosting;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Notifications;
using Platform.Engines.ApiKeys;

namespace Platform.Engines.Jobs;

/// <summary>Keeps the API key cache honest on this instance: LISTENs for key changes from every instance, drops changed keys, and empties the cache whenever the connection is lost or comes back.</summary>
internal sealed class ApiKeyChangeListenerJob(IChannelListener listener, ApiKeyCache cache) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        listener.ListenAsync(
            IApiKeyDriver.ChangedChannel,
            cache.StartServing,
            payload =>
            {
                if (Guid.TryParse(payload, out var keyId))
                {
                    cache.OnNotification(keyId);
                }
                else
                {
                    cache.StopServing();
                    cache.StartServing();
                }
            },
            cache.StopServing,
            stoppingToken);
}
