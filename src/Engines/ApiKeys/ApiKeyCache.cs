using System.Collections.Concurrent;
using Platform.Models;
using Platform.Models.ApiKeys;

namespace Platform.Engines.ApiKeys;

/// <summary>Caches key look-ups by secret hash while the change listener is connected; a key change on any instance (PostgreSQL NOTIFY) drops its entry, and a lost listener empties and disables the cache.</summary>
internal sealed class ApiKeyCache(IClock clock)
{
    /// <summary>Is how long an entry is trusted even without a notification (a safety net, not the invalidation path).</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, AckWait> acks = new();
    private long generation;
    private volatile bool serving;

    /// <summary>Gets whether the listener is connected, so that cached entries can be trusted.</summary>
    public bool IsServing => serving;

    /// <summary>Gets the invalidation count; a fill stores its entry only if no invalidation ran while it read the database.</summary>
    public long Generation => Interlocked.Read(ref generation);

    public int Count => entries.Count;

    public bool TryGet(string hashKey, out ApiKeyCredentials credentials)
    {
        if (serving && entries.TryGetValue(hashKey, out var entry) && clock.UtcNow - entry.CachedAt < TimeToLive)
        {
            credentials = entry.Credentials;
            return true;
        }
        credentials = null!;
        return false;
    }

    /// <summary>Stores a live key read from the database, unless an invalidation ran since seenGeneration was read.</summary>
    public void Store(string hashKey, ApiKeyCredentials credentials, long seenGeneration)
    {
        if (!serving)
        {
            return;
        }
        entries[hashKey] = new Entry(credentials, clock.UtcNow);
        if (Generation != seenGeneration || !serving)
        {
            entries.TryRemove(hashKey, out _);
        }
    }

    /// <summary>Counts one instance's acknowledgement that it dropped the key, and completes the local wait once every listener counted before the change has acknowledged.</summary>
    public void OnAcknowledged(Guid keyId)
    {
        if (acks.TryGetValue(keyId, out var wait) && Interlocked.Decrement(ref wait.Remaining) <= 0 && acks.TryRemove(keyId, out _))
        {
            wait.Done.TrySetResult();
        }
    }

    /// <summary>Drops the entries of one key (revoked, frozen or unfrozen).</summary>
    public void Invalidate(Guid keyId)
    {
        Interlocked.Increment(ref generation);
        foreach (var pair in entries)
        {
            if (pair.Value.Credentials.Id == keyId)
            {
                entries.TryRemove(pair.Key, out _);
            }
        }
    }

    /// <summary>Starts trusting the cache; called once LISTEN took effect (entries from before are dropped).</summary>
    public void StartServing()
    {
        Clear();
        serving = true;
    }

    /// <summary>Stops trusting the cache and empties it; called when the listener's connection is lost (notifications may be missed).</summary>
    public void StopServing()
    {
        serving = false;
        Clear();
    }

    /// <summary>Registers, before the changing transaction commits, a wait for the acknowledgements of the given number of listening instances (this one included).</summary>
    public Task ExpectAcknowledgements(Guid keyId, int listeners)
    {
        if (!serving || listeners <= 0)
        {
            return Task.CompletedTask;
        }
        var wait = new AckWait(listeners);
        acks[keyId] = wait;
        return wait.Done.Task;
    }

    private void Clear()
    {
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    private sealed record Entry(ApiKeyCredentials Credentials, DateTimeOffset CachedAt);

    private sealed class AckWait(int listeners)
    {
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining = listeners;
    }
}
