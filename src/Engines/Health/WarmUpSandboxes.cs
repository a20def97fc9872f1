using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Health;

/// <summary>Runs the start-up warm-up's real work in a sandbox that is always rolled back (ADR 0815): the set-up (in-process commands: a user,
/// a tenant, a key) runs inside it, then, while the warm-up's own HTTP requests run, each request that carries the process's warm-up token
/// enters it in turn. Nothing written there is ever committed; in-memory effects that would outlive it (the key usage counters and their
/// flush, the key cache, the admission and ingestion metrics) check <see cref="WarmUpSandbox.Active"/> and leave it out.</summary>
public sealed class WarmUpSandboxes(IDbSessionFactory sessions, ILogger<WarmUpSandboxes> logger)
{
    private volatile WarmUpSandbox? open;

    /// <summary>Opens the sandbox, runs the set-up inside it, then runs the traffic while the sandbox is open to the warm-up's requests
    /// (<see cref="RunRequestAsync"/>), and rolls everything back.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> setup, Func<CancellationToken, Task> traffic, CancellationToken cancellationToken)
    {
        var sandbox = await sessions.OpenWarmUpSandboxAsync(cancellationToken);
        try
        {
            await sandbox.RunAsync(() => setup(cancellationToken), cancellationToken);
            open = sandbox;
            await traffic(cancellationToken);
        }
        finally
        {
            open = null;
            try
            {
                await sandbox.DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Never hides what the work threw: the rollback's own failure (a connection still busy) is only logged.
                logger.LogWarning(e, "The warm-up sandbox's rollback failed; its connection is dropped");
            }
        }
    }

    /// <summary>Runs the rest of a warm-up request (the caller has checked its token) inside the open sandbox, one request at a time, or as it
    /// is when no sandbox is open.</summary>
    public Task RunRequestAsync(Func<Task> next, CancellationToken cancellationToken) =>
        open is { } sandbox ? sandbox.RunAsync(next, cancellationToken) : next();
}
