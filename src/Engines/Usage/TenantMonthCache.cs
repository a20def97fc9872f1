using System.Collections.Concurrent;

namespace Platform.Engines.Usage;

/// <summary>Keeps one value per tenant for one month, read from the database and served from memory for a time to live of real time (not the injected
/// clock): the usage summary of API keys (ADR 0164) and the figures of their plain quota checks (ADR 0765). Every command of a tenant sent through this
/// process evicts the tenant after it ran (UsageSummaryEviction), so this instance reads its own writes; the time bounds what other instances wrote.</summary>
internal abstract class TenantMonthCache<T>(int ttlMilliseconds)
    where T : class
{
    /// <summary>Is the most tenants held at once; past it, expired entries are swept and, if none expired, nothing new is stored.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<Guid, Entry> entries = new();
    private readonly ConcurrentDictionary<(Guid TenantId, DateOnly Period), Lazy<Task<T>>> fills = new();
    // The generation of each tenant's latest eviction: a fill is kept out only by an eviction of its own tenant, so that the api_calls flush, which
    // evicts every busy tenant each second, does not keep every other tenant's fills from being stored.
    private readonly ConcurrentDictionary<Guid, long> evictedAt = new();
    private readonly long ttlMs = ttlMilliseconds;
    private long generation;
    private long nextSweepAt;

    /// <summary>Gets the eviction count; a fill stores its entry only if no eviction of its tenant ran while it read the database.</summary>
    public long Generation => Interlocked.Read(ref generation);

    public int Count => entries.Count;

    /// <summary>Gives the value of the month starting at period, if held and younger than the time to live.</summary>
    public bool TryGet(Guid tenantId, DateOnly period, out T value)
    {
        if (ttlMs > 0 && entries.TryGetValue(tenantId, out var entry) && entry.Period == period && Environment.TickCount64 < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }
        value = null!;
        return false;
    }

    /// <summary>Gives the held entry (if usable says it still is) or, on a miss, the result of one database read shared by every caller of the tenant that
    /// misses while it runs (without this, each expiry sends all of a busy tenant's concurrent callers to the database at once). The read must not depend
    /// on the caller: it runs as the system, without the first caller's cancellation, and each caller checks itself against what it returns. An eviction
    /// detaches a running read, so callers after a write never join a read from before it.</summary>
    public async Task<T> GetOrFillAsync(Guid tenantId, DateOnly period, Func<Task<T>> read, CancellationToken cancellationToken, Func<T, bool>? usable = null)
    {
        if (TryGet(tenantId, period, out var held) && (usable is null || usable(held)))
        {
            return held;
        }
        if (ttlMs <= 0)
        {
            return await read();
        }
        Lazy<Task<T>>? mine = null;
        mine = new Lazy<Task<T>>(() => FillAsync(tenantId, period, read, mine!));
        var fill = fills.GetOrAdd((tenantId, period), mine);
        return await fill.Value.WaitAsync(cancellationToken);
    }

    private async Task<T> FillAsync(Guid tenantId, DateOnly period, Func<Task<T>> read, Lazy<Task<T>> self)
    {
        try
        {
            var seen = Generation;
            var filled = await read();
            Store(tenantId, period, filled, seen);
            return filled;
        }
        finally
        {
            fills.TryRemove(KeyValuePair.Create((tenantId, period), self));
        }
    }

    /// <summary>Stores what was read from the database, unless an eviction of the tenant ran since seenGeneration was read.</summary>
    public void Store(Guid tenantId, DateOnly period, T value, long seenGeneration)
    {
        if (ttlMs <= 0 || EvictedSince(tenantId, seenGeneration) || (entries.Count >= MaxEntries && !Sweep()))
        {
            return;
        }
        var entry = new Entry(value, period, Environment.TickCount64 + ttlMs);
        entries[tenantId] = entry;
        // An eviction between the check above and the write may have missed this entry: drop it (only it) rather than serve what the write changed.
        if (EvictedSince(tenantId, seenGeneration))
        {
            entries.TryRemove(KeyValuePair.Create(tenantId, entry));
        }
    }

    private bool EvictedSince(Guid tenantId, long seenGeneration) => evictedAt.TryGetValue(tenantId, out var at) && at > seenGeneration;

    /// <summary>Forgets the tenant; called after every command of the tenant, committed or not.</summary>
    public void Evict(Guid tenantId)
    {
        // Recorded before the entry goes, so that a Store racing with this either sees it or has its entry removed here.
        var at = Interlocked.Increment(ref generation);
        evictedAt.AddOrUpdate(tenantId, at, (_, old) => Math.Max(old, at));
        entries.TryRemove(tenantId, out _);
        foreach (var key in fills.Keys)
        {
            if (key.TenantId == tenantId)
            {
                fills.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Removes expired entries, at most once per time to live; says whether there is room now.</summary>
    private bool Sweep()
    {
        var now = Environment.TickCount64;
        var due = Interlocked.Read(ref nextSweepAt);
        if (now >= due && Interlocked.CompareExchange(ref nextSweepAt, now + ttlMs, due) == due)
        {
            foreach (var (tenantId, entry) in entries)
            {
                if (entry.ExpiresAt <= now)
                {
                    entries.TryRemove(KeyValuePair.Create(tenantId, entry));
                }
            }
        }
        return entries.Count < MaxEntries;
    }

    private sealed record Entry(T Value, DateOnly Period, long ExpiresAt);
}
