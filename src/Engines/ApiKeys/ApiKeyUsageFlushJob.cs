using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;

namespace Platform.Engines.ApiKeys;

/// <summary>Writes the in-memory API key request counts every second (and once more on shutdown) in one statement, then hands the per-tenant counts to every IApiCallsSink. A crash loses at most the last second.</summary>
/// <remarks>
/// Not a <see cref="Hosting.PeriodicJob"/>, on purpose: it is not a feature job that claims shared work in the database but this process's own
/// write-behind buffer. It runs in every API instance whatever Platform:RunJobs says and never in the Worker (whose counters stay empty); it
/// must flush once more when the host stops, one flush at a time with that last one; a write is never cancelled half-way (a cancelled commit
/// may have landed, and putting its counts back would count them twice); and it drains in-memory counters rather than sending a command that
/// any copy could run. PeriodicJob's sealed loop (a fresh scope and mediator per tick, the stopping token passed in, failures logged and
/// skipped) fits none of that.
/// </remarks>
internal sealed class ApiKeyUsageFlushJob(
    IApiKeyUsageRecorder recorder, IDbSessionFactory sessions, IApiKeyDriver keys, IEnumerable<IApiCallsSink> sinks,
    ILogger<ApiKeyUsageFlushJob> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Never cancelled mid-write: a cancelled commit could have landed, and restoring its counts would count them twice.
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync flushes what is left.
        }
    }

    /// <summary>Is how long the last flush on shutdown may take, whatever the host's own shutdown budget has left.</summary>
    public static readonly TimeSpan ShutdownFlushTimeout = TimeSpan.FromSeconds(10);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var timeout = new CancellationTokenSource(ShutdownFlushTimeout);
        await FlushAsync(timeout.Token);
    }

    // One flush at a time, sinks included: a stop that finds another flush running (the timer's, or a second StopAsync, which the test
    // host sends) waits for it, so that StopAsync never returns while counts are still on their way to the database or the sinks.
    private readonly SemaphoreSlim flushing = new(1, 1);

    /// <summary>Writes what was counted since the last flush; on failure the counts are put back for the next attempt.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await flushing.WaitAsync(cancellationToken);
        try
        {
            await FlushOnceAsync(cancellationToken);
        }
        finally
        {
            flushing.Release();
        }
    }

    private async Task FlushOnceAsync(CancellationToken cancellationToken)
    {
        var usage = recorder.Drain();
        var users = recorder.DrainUserRequests();
        if (usage.Count == 0 && users.Count == 0)
        {
            return;
        }
        if (usage.Count > 0)
        {
            try
            {
                await using var session = await sessions.OpenAsync(null, null, cancellationToken);
                await keys.RecordUsageAsync(session, usage, cancellationToken);
                await session.CommitAsync(cancellationToken);
            }
            catch (Exception e)
            {
                recorder.Restore(usage);
                logger.LogWarning(e, "Flushing the usage of {Keys} API keys failed; it is kept for the next flush", usage.Count);
                // The keys' counts go with the next flush; members' requests have no key row to wait for.
                usage = [];
                if (users.Count == 0)
                {
                    return;
                }
            }
        }
        var perTenant = ApiKeyUsageRecorder.PerTenant(usage, users);
        foreach (var sink in sinks)
        {
            try
            {
                await sink.RecordApiCallsAsync(perTenant, cancellationToken);
            }
            // A cancellation that is not ours (a sink's own time-out, a disposed resource at shutdown) is that sink's failure: it must not
            // cost the next sinks their counts, nor leave silently through ExecuteAsync's shutdown catch.
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The API calls sink {Sink} failed", sink.GetType().Name);
            }
        }
    }
}
