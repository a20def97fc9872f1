using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Health;

/// <summary>Runs the start-up warm-up's real work in sandboxes that are always rolled back (ADR 0815, 0820): one sandbox per lane, each a
/// transaction on its own pooled connection, so that every connection the first callers will use (and its PostgreSQL backend: catalog caches,
/// compiled PL/pgSQL, prepared statements) has run the hot paths once. The set-up (in-process commands: a user, a tenant, a key) runs inside
/// each lane's sandbox, then, while the warm-up's own HTTP requests run, each request that carries the process's warm-up token enters its
/// lane's sandbox in turn. Nothing written there is ever committed; in-memory effects that would outlive it (the key usage counters and their
/// flush, the key cache, the admission and ingestion metrics) check <see cref="WarmUpSandbox.Active"/> and leave it out.</summary>
public sealed class WarmUpSandboxes(IDbSessionFactory sessions, ILogger<WarmUpSandboxes> logger)
{
    /// <summary>Is how long a lane waits for its connection: a pool that has none free (other parts of the service hold them) loses the lane,
    /// not the warm-up.</summary>
    private static readonly TimeSpan OpenWait = TimeSpan.FromSeconds(5);

    private volatile WarmUpSandbox[] open = [];

    /// <summary>Opens up to <paramref name="lanes"/> sandboxes at once (each on its own connection; a lane whose connection is not had in time,
    /// or whose set-up fails, is left out), runs each lane's set-up inside its sandbox, then runs the traffic with the live lanes' set-up results
    /// (a lane's index in that list is the one its requests name, <see cref="RunRequestAsync"/>), and rolls
    /// everything back. Throws what the first lane's set-up threw when no lane is left.</summary>
    public async Task RunAsync<T>(
        int lanes, Func<int, CancellationToken, Task<T>> setup, Func<IReadOnlyList<T>, CancellationToken, Task> traffic, CancellationToken cancellationToken)
    {
        var opened = new WarmUpSandbox?[Math.Max(1, lanes)];
        try
        {
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                wait.CancelAfter(OpenWait);
                await Task.WhenAll(opened.Select(async (_, lane) =>
                {
                    try
                    {
                        opened[lane] = await sessions.OpenWarmUpSandboxAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && lane > 0)
                    {
                        // Not had in time: the pool is full; the lanes that were had still run (the first lane always waits for its own).
                    }
                }));
            }
            var results = await Task.WhenAll(opened.Select(async (sandbox, lane) =>
            {
                if (sandbox is null)
                {
                    return (Ok: false, Value: default(T)!, Error: (Exception?)null);
                }
                try
                {
                    T value = default!;
                    await sandbox.RunAsync(async () => value = await setup(lane, cancellationToken), cancellationToken);
                    return (Ok: true, Value: value, Error: null);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return (Ok: false, Value: default(T)!, Error: e);
                }
            }));
            var live = Enumerable.Range(0, opened.Length).Where(lane => results[lane].Ok).ToArray();
            if (live.Length == 0)
            {
                throw results.Select(r => r.Error).FirstOrDefault(e => e is not null) ?? new InvalidOperationException("No warm-up sandbox could be opened.");
            }
            if (live.Length < opened.Length)
            {
                logger.LogInformation("Warm-up runs {Live} of {Lanes} sandbox lanes; the others had no connection in time or failed their set-up ({Error})",
                    live.Length, opened.Length, results.Select(r => r.Error?.Message).FirstOrDefault(m => m is not null) ?? "no connection");
            }
            open = live.Select(lane => opened[lane]!).ToArray();
            await traffic(live.Select(lane => results[lane].Value).ToArray(), cancellationToken);
        }
        finally
        {
            open = [];
            await Task.WhenAll(opened.Where(sandbox => sandbox is not null).Select(async sandbox =>
            {
                try
                {
                    await sandbox!.DisposeAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Never hides what the work threw: the rollback's own failure (a connection still busy) is only logged.
                    logger.LogWarning(e, "A warm-up sandbox's rollback failed; its connection is dropped");
                }
            }));
        }
    }

    /// <summary>Runs the rest of a warm-up request (the caller has checked its token) inside the open sandbox of the lane it names, one request
    /// at a time per lane, or as it is when no sandbox of that lane is open.</summary>
    public Task RunRequestAsync(int lane, Func<Task> next, CancellationToken cancellationToken) =>
        open is var lanes && lane >= 0 && lane < lanes.Length ? lanes[lane].RunAsync(next, cancellationToken) : next();
}
