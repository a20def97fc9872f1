using System.Collections.Concurrent;
using Platform.Drivers.Sessions;
using Platform.Models.ApiKeys;

namespace Platform.Engines.ApiKeys;

/// <summary>Counts API key requests in memory; the usage flush job drains the counts at least every second into last_used_at and total_requests.</summary>
public interface IApiKeyUsageRecorder
{
    /// <summary>Counts one admitted request of a key.</summary>
    void Record(Guid tenantId, Guid keyId, DateTimeOffset at);

    /// <summary>Takes the counts gathered since the last drain (each key once) and starts counting from zero.</summary>
    IReadOnlyList<ApiKeyUsage> Drain();

    /// <summary>Puts back counts a failed flush could not write, so they go with the next one.</summary>
    void Restore(IReadOnlyList<ApiKeyUsage> usage);

    /// <summary>Counts one admitted request of a signed-in member to a tenant (api_calls only: users have no key row to update, ADR 0715).</summary>
    void RecordUserRequest(Guid tenantId, DateTimeOffset at);

    /// <summary>Takes the members' requests per tenant gathered since the last drain and starts counting from zero.</summary>
    IReadOnlyList<TenantApiCalls> DrainUserRequests();
}

/// <summary>Receives, after each usage flush has committed, the API requests per tenant it wrote, keys' and members' (the api_calls usage meter plugs in here).</summary>
public interface IApiCallsSink
{
    /// <summary>Takes the requests made with each tenant's keys since the previous flush, and the time of the latest one.</summary>
    Task RecordApiCallsAsync(IReadOnlyList<TenantApiCalls> calls, CancellationToken cancellationToken);
}

/// <summary>Holds the API key requests of one tenant in one flush, and the time of the latest one.</summary>
public sealed record TenantApiCalls(Guid TenantId, long Requests, DateTimeOffset LastAt);

internal sealed class ApiKeyUsageRecorder : IApiKeyUsageRecorder
{
    // Counters are never removed, so an increment can never land in a counter that a drain has already dropped.
    private readonly ConcurrentDictionary<Guid, Counter> counters = new();

    // Members' requests, per tenant (the same never-removed counters).
    private readonly ConcurrentDictionary<Guid, Counter> userCounters = new();

    public void RecordUserRequest(Guid tenantId, DateTimeOffset at)
    {
        if (WarmUpSandbox.Active)
        {
            // The warm-up's rolled-back tenant (ADR 0815): a count of it would be flushed for a tenant that never existed.
            return;
        }
        var counter = userCounters.GetOrAdd(tenantId, static t => new Counter(t));
        Interlocked.Increment(ref counter.Requests);
        counter.SeenAt(at.UtcTicks);
    }

    public IReadOnlyList<TenantApiCalls> DrainUserRequests()
    {
        var drained = new List<TenantApiCalls>();
        foreach (var (tenantId, counter) in userCounters)
        {
            var requests = Interlocked.Exchange(ref counter.Requests, 0);
            if (requests > 0)
            {
                drained.Add(new TenantApiCalls(tenantId, requests, new DateTimeOffset(Interlocked.Read(ref counter.LastTicks), TimeSpan.Zero)));
            }
        }
        return drained;
    }

    public void Record(Guid tenantId, Guid keyId, DateTimeOffset at)
    {
        if (WarmUpSandbox.Active)
        {
            // The warm-up's rolled-back key (ADR 0815): a count of it would be flushed for a key that never existed.
            return;
        }
        var counter = counters.GetOrAdd(keyId, static (_, t) => new Counter(t), tenantId);
        Interlocked.Increment(ref counter.Requests);
        counter.SeenAt(at.UtcTicks);
    }

    public IReadOnlyList<ApiKeyUsage> Drain()
    {
        var drained = new List<ApiKeyUsage>();
        foreach (var (keyId, counter) in counters)
        {
            var requests = Interlocked.Exchange(ref counter.Requests, 0);
            if (requests > 0)
            {
                drained.Add(new ApiKeyUsage(counter.TenantId, keyId, requests, new DateTimeOffset(Interlocked.Read(ref counter.LastTicks), TimeSpan.Zero)));
            }
        }
        return drained;
    }

    public void Restore(IReadOnlyList<ApiKeyUsage> usage)
    {
        foreach (var u in usage)
        {
            var counter = counters.GetOrAdd(u.KeyId, static (_, t) => new Counter(t), u.TenantId);
            Interlocked.Add(ref counter.Requests, u.Requests);
            counter.SeenAt(u.LastUsedAt.UtcTicks);
        }
    }

    private sealed class Counter(Guid tenantId)
    {
        public readonly Guid TenantId = tenantId;
        public long Requests;
        public long LastTicks;

        /// <summary>Raises LastTicks to the given time unless a later one is already recorded.</summary>
        public void SeenAt(long ticks)
        {
            long seen;
            while (ticks > (seen = Interlocked.Read(ref LastTicks)) && Interlocked.CompareExchange(ref LastTicks, ticks, seen) != seen)
            {
            }
        }
    }

    /// <summary>Sums drained key counts per tenant, the shape the api_calls meter takes.</summary>
    public static IReadOnlyList<TenantApiCalls> PerTenant(IReadOnlyList<ApiKeyUsage> usage) => PerTenant(usage, []);

    /// <summary>Sums drained key counts and members' counts per tenant: one api_calls figure per tenant and flush.</summary>
    public static IReadOnlyList<TenantApiCalls> PerTenant(IReadOnlyList<ApiKeyUsage> usage, IReadOnlyList<TenantApiCalls> users) =>
        usage.Select(u => new TenantApiCalls(u.TenantId, u.Requests, u.LastUsedAt)).Concat(users)
            .GroupBy(c => c.TenantId)
            .Select(g => new TenantApiCalls(g.Key, g.Sum(c => c.Requests), g.Max(c => c.LastAt)))
            .ToList();
}
