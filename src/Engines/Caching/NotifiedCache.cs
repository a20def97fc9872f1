using System.Collections.Concurrent;
using Platform.Models;

namespace Platform.Engines.Caching;

/// <summary>Is a per-process cache kept honest by PostgreSQL NOTIFY on its channel; <see cref="ChangeListenerJob"/> feeds every one of them from one LISTEN connection.</summary>
public interface INotifiedCache
{
    /// <summary>Gets the PostgreSQL channel whose "changed:{id}" notices drop this cache's entries of that id.</summary>
    string Channel { get; }

    /// <summary>Drops the entries of one id.</summary>
    void Invalidate(Guid id);

    /// <summary>Counts one instance's acknowledgement that it dropped the entries of id.</summary>
    void OnAcknowledged(Guid id);

    /// <summary>Starts trusting the cache; called once LISTEN took effect (entries from before are dropped).</summary>
    void StartServing();

    /// <summary>Stops trusting the cache and empties it; called when the listener's connection is lost (notices may be missed).</summary>
    void StopServing();
}

/// <summary>Caches values by key while the change listener is connected; a change on any instance (PostgreSQL NOTIFY of the value's id) drops its entries,
/// a lost listener empties and disables the cache, and the changing instance can wait until every listening instance acknowledged the drop.</summary>
/// <remarks>The API key cache was the first of these (ADR 0160); the tenant feature and IP allowlist caches reuse the same mechanism (ADR 0550).</remarks>
public abstract class NotifiedCache<TKey, TValue>(IClock clock, string channel, Func<TKey, TValue, Guid> idOf) : INotifiedCache
    where TKey : notnull
{
    /// <summary>Is how long an entry is trusted even without a notification (a safety net, not the invalidation path).</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<TKey, Entry> entries = new();
    private readonly ConcurrentDictionary<Guid, AckWait> acks = new();
    private long generation;
    private volatile bool serving;

    /// <inheritdoc/>
    public string Channel { get; } = channel;

    /// <summary>Gets whether the listener is connected, so that cached entries can be trusted.</summary>
    public bool IsServing => serving;

    /// <summary>Gets the invalidation count; a fill stores its entry only if no invalidation ran while it read the database.</summary>
    public long Generation => Interlocked.Read(ref generation);

    /// <summary>Gets the number of cached entries.</summary>
    public int Count => entries.Count;

    /// <summary>Gets a trusted entry, or false.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (serving && entries.TryGetValue(key, out var entry) && clock.UtcNow < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Stores a value read from the database, unless an invalidation ran since seenGeneration was read; returns whether it was kept.
    /// The entry is trusted for lifetime when given (at most <see cref="TimeToLive"/>), else for a random 75 to 100 % of it: entries filled
    /// together (a start-up fill, the first second of load after a start) then do not all expire, and go back to the database, in the same
    /// second (ADR 0821).</summary>
    public bool Store(TKey key, TValue value, long seenGeneration, TimeSpan? lifetime = null)
    {
        if (!serving)
        {
            return false;
        }
        var life = lifetime is { } given ? (given < TimeToLive ? given : TimeToLive) : TimeToLive * (1 - (Random.Shared.NextDouble() / 4));
        entries[key] = new Entry(value, clock.UtcNow + life);
        if (Generation != seenGeneration || !serving)
        {
            entries.TryRemove(key, out _);
            return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public void OnAcknowledged(Guid id)
    {
        if (acks.TryGetValue(id, out var wait) && Interlocked.Decrement(ref wait.Remaining) <= 0 && acks.TryRemove(id, out _))
        {
            wait.Done.TrySetResult();
        }
    }

    /// <inheritdoc/>
    public void Invalidate(Guid id)
    {
        Interlocked.Increment(ref generation);
        foreach (var pair in entries)
        {
            if (idOf(pair.Key, pair.Value.Value) == id)
            {
                entries.TryRemove(pair.Key, out _);
            }
        }
    }

    /// <inheritdoc/>
    public void StartServing()
    {
        Clear();
        serving = true;
    }

    /// <inheritdoc/>
    public void StopServing()
    {
        serving = false;
        Clear();
    }

    /// <summary>Registers, before the changing transaction commits, a wait for the acknowledgements of the given number of listening instances (this one included).</summary>
    public Task ExpectAcknowledgements(Guid id, int listeners)
    {
        if (!serving || listeners <= 0)
        {
            return Task.CompletedTask;
        }
        var wait = new AckWait(listeners);
        acks[id] = wait;
        return wait.Done.Task;
    }

    private void Clear()
    {
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    private sealed record Entry(TValue Value, DateTimeOffset ExpiresAt);

    private sealed class AckWait(int listeners)
    {
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining = listeners;
    }
}
