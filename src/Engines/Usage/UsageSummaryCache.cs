using System.Collections.Concurrent;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Keeps, per tenant, the tenant as read and the current month's summary built from its rollups, so that an API key's usage summary needs no database
/// round trip (ADR 0164). An entry lives for Usage:SummaryCacheMilliseconds of real time (not the injected clock); every command of a
/// tenant sent through this process evicts the tenant after it ran (UsageSummaryEviction), so this instance reads its own writes.</summary>
internal sealed class UsageSummaryCache(UsageOptions options)
{
    /// <summary>Is the most tenants held at once; past it, expired entries are swept and, if none expired, nothing new is stored.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<Guid, Entry> entries = new();
    private readonly ConcurrentDictionary<(Guid TenantId, DateOnly Period), Lazy<Task<Filled>>> fills = new();
    private readonly long ttlMs = options.SummaryCacheMilliseconds;
    private long generation;
    private long nextSweepAt;

    /// <summary>Gets the eviction count; a fill stores its entry only if no eviction ran while it read the database.</summary>
    public long Generation => Interlocked.Read(ref generation);

    public int Count => entries.Count;

    /// <summary>Gives the tenant and the summary of the month starting at period, if held and younger than the time to live.</summary>
    public bool TryGet(Guid tenantId, DateOnly period, out TenantSnapshot tenant, out UsageSummary summary)
    {
        if (ttlMs > 0 && entries.TryGetValue(tenantId, out var entry) && entry.Period == period && Environment.TickCount64 < entry.ExpiresAt)
        {
            (tenant, summary) = (entry.Tenant, entry.Summary);
            return true;
        }
        (tenant, summary) = (null!, null!);
        return false;
    }

    /// <summary>Gives the held entry or, on a miss, the result of one database read shared by every caller of the tenant that misses
    /// while it runs (without this, each expiry sends all of a busy tenant's concurrent callers to the database at once). The read
    /// must not depend on the caller: it runs as the system, without the first caller's cancellation, and each caller checks itself
    /// against the tenant it returns. An eviction detaches a running read, so callers after a write never join a read from before it.</summary>
    public async Task<Filled> GetOrFillAsync(Guid tenantId, DateOnly period, Func<Task<Filled>> read, CancellationToken cancellationToken)
    {
        if (TryGet(tenantId, period, out var tenant, out var summary))
        {
            return new Filled(tenant, summary);
        }
        if (ttlMs <= 0)
        {
            return await read();
        }
        Lazy<Task<Filled>>? mine = null;
        mine = new Lazy<Task<Filled>>(() => FillAsync(tenantId, period, read, mine!));
        var fill = fills.GetOrAdd((tenantId, period), mine);
        return await fill.Value.WaitAsync(cancellationToken);
    }

    private async Task<Filled> FillAsync(Guid tenantId, DateOnly period, Func<Task<Filled>> read, Lazy<Task<Filled>> self)
    {
        try
        {
            var seen = Generation;
            var filled = await read();
            Store(tenantId, period, filled.Tenant, filled.Summary, seen);
            return filled;
        }
        finally
        {
            fills.TryRemove(KeyValuePair.Create((tenantId, period), self));
        }
    }

    /// <summary>Stores what a summary read from the database, unless an eviction ran since seenGeneration was read.</summary>
    public void Store(Guid tenantId, DateOnly period, TenantSnapshot tenant, UsageSummary summary, long seenGeneration)
    {
        if (ttlMs <= 0 || Generation != seenGeneration || (entries.Count >= MaxEntries && !Sweep()))
        {
            return;
        }
        var entry = new Entry(tenant, summary, period, Environment.TickCount64 + ttlMs);
        entries[tenantId] = entry;
        // An eviction between the check above and the write may have missed this entry: drop it (only it) rather than serve what the write changed.
        if (Generation != seenGeneration)
        {
            entries.TryRemove(KeyValuePair.Create(tenantId, entry));
        }
    }

    /// <summary>Forgets the tenant; called after every command of the tenant, committed or not.</summary>
    public void Evict(Guid tenantId)
    {
        Interlocked.Increment(ref generation);
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

    /// <summary>Holds a tenant as read and its summary of one month.</summary>
    public sealed record Filled(TenantSnapshot Tenant, UsageSummary Summary);

    private sealed record Entry(TenantSnapshot Tenant, UsageSummary Summary, DateOnly Period, long ExpiresAt);
}
