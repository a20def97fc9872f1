using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Caching;

/// <summary>Keeps every <see cref="INotifiedCache"/> of this instance honest: LISTENs on all their channels on one connection, drops changed entries and
/// acknowledges it (so the changing instance can wait for everyone), and empties the caches whenever the connection is lost or comes back.</summary>
/// <remarks>Not a <see cref="Hosting.PeriodicJob"/>: nothing here runs on a timer. It holds one LISTEN connection for the life of the host and
/// reacts to notifications as they arrive; waiting for a tick would leave a changed entry cached for up to that long on this instance.</remarks>
internal sealed class ChangeListenerJob(
    IChannelListener listener, IEnumerable<INotifiedCache> caches, IDbSessionFactory sessions, IChangeNoticeDriver notices, ILogger<ChangeListenerJob> logger)
    : BackgroundService
{
    private readonly IReadOnlyList<INotifiedCache> all = caches.ToList();
    private readonly Channel<(string Channel, Guid Id)> dropped = Channel.CreateUnbounded<(string, Guid)>(new UnboundedChannelOptions { SingleReader = true });

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            listener.ListenAsync(all.Select(c => c.Channel).Distinct().Order(StringComparer.Ordinal).ToList(),
                () => Each(c => c.StartServing()), OnNotification, () => Each(c => c.StopServing()), stoppingToken),
            AcknowledgeAsync(stoppingToken));

    private void Each(Action<INotifiedCache> action)
    {
        foreach (var cache in all)
        {
            action(cache);
        }
    }

    private void OnNotification(string channel, string payload)
    {
        var targets = all.Where(c => c.Channel == channel).ToList();
        if (payload.StartsWith(IChangeNoticeDriver.DroppedPrefix, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(IChangeNoticeDriver.DroppedPrefix.Length), out var droppedId))
        {
            targets.ForEach(c => c.OnAcknowledged(droppedId));
        }
        else if (payload.StartsWith(IChangeNoticeDriver.ChangedPrefix, StringComparison.Ordinal)
            && Guid.TryParse(payload.AsSpan(IChangeNoticeDriver.ChangedPrefix.Length), out var changedId))
        {
            targets.ForEach(c => c.Invalidate(changedId));
            dropped.Writer.TryWrite((channel, changedId));
        }
        else
        {
            // Unknown payload: trust nothing cached on that channel.
            targets.ForEach(c =>
            {
                c.StopServing();
                c.StartServing();
            });
        }
    }

    private async Task AcknowledgeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (channel, id) in dropped.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var session = await sessions.OpenAsync(null, null, stoppingToken);
                    await notices.NotifyDroppedAsync(session, channel, id, stoppingToken);
                    await session.CommitAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Acknowledging the change of {Id} on {Channel} failed", id, channel);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}

/// <summary>Ends a transaction that changed what a notified cache holds: NOTIFY inside it, commit, drop the local entries, then wait (at most two seconds)
/// until every instance that was listening has acknowledged that it dropped them too.</summary>
public static class NotifiedChanges
{
    /// <summary>Is the longest wait for the other instances' acknowledgements.</summary>
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Sends the NOTIFY inside the open transaction and returns what must run once it has committed (drop the local entries, wait for the acknowledgements).</summary>
    public static async Task<Func<Task>> AnnounceAsync<TKey, TValue>(
        IChangeNoticeDriver notices, NotifiedCache<TKey, TValue> cache, IDbSession session, Guid id, CancellationToken cancellationToken)
        where TKey : notnull
    {
        await notices.NotifyChangedAsync(session, cache.Channel, id, cancellationToken);
        var listeners = await notices.CountListenersAsync(session, cache.Channel, cancellationToken);
        var acknowledged = cache.ExpectAcknowledgements(id, listeners);
        return async () =>
        {
            cache.Invalidate(id);
            try
            {
                await acknowledged.WaitAsync(AckTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // A listener is reconnecting (it empties its cache when it is back) or its instance is stopping.
            }
        };
    }

    /// <summary>Adds the one change listener of the instance (once, whoever asks first) and registers a cache with it.</summary>
    public static IServiceCollection AddNotifiedCache<TCache>(this IServiceCollection services) where TCache : class, INotifiedCache
    {
        services.TryAddSingleton<TCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<INotifiedCache, TCache>(p => p.GetRequiredService<TCache>()));
        return services;
    }

    /// <summary>Adds the hosted change listener that feeds every registered cache (once).</summary>
    public static IServiceCollection AddChangeListener(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ChangeListenerJob>());
        return services;
    }
}
