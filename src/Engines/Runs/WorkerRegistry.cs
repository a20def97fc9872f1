using Platform.Drivers.Sessions;
using Platform.Drivers.Runs;
using Platform.Models;
using Platform.Models.Runs;

namespace Platform.Engines.Runs;

/// <summary>Keeps the worker registry in memory for a minute: it is a global catalogue that only migrations change, and admissions and completions would otherwise read it on every run (ADR 0160).</summary>
internal sealed class WorkerRegistry(IWorkerDriver workers, IClock clock)
{
    /// <summary>Is how long a loaded registry is used before the next run reads it again.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(1);

    private volatile Loaded? loaded;

    /// <summary>Finds a worker of the registry, reading the whole registry in the given session when the copy in memory is missing or older than a minute.</summary>
    public async Task<WorkerSnapshot?> FindAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var current = loaded;
        if (current is null || now - current.At >= TimeToLive || now < current.At)
        {
            var all = await workers.ListWorkersAsync(session, cancellationToken);
            current = new Loaded(all.ToDictionary(w => w.Id, StringComparer.Ordinal), now);
            loaded = current;
        }
        return current.Workers.GetValueOrDefault(workerId);
    }

    private sealed record Loaded(IReadOnlyDictionary<string, WorkerSnapshot> Workers, DateTimeOffset At);
}
