using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;

namespace Platform.Engines.Runs;

/// <summary>Fails runs left running past the configured timeout and frees their slots, every sweep interval; any number of copies may run (the runs are claimed with SKIP LOCKED).</summary>
internal sealed class RunTimeoutJob(IServiceScopeFactory scopes, RunsOptions options, ILogger<RunTimeoutJob> logger) : PeriodicJob(scopes, logger)
{
    /// <summary>Is how often the job looks for runs past their timeout.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    protected override TimeSpan Interval => SweepInterval;

    // A run cannot be past its timeout when the host has just started sweeping; the first sweep waits one interval.
    protected override bool WaitsForFirstTick => true;

    protected override string FailureMessage => "Run timeout: the sweep failed";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        var timedOut = await mediator.Send(new TimeOutStaleRuns(), cancellationToken);
        if (timedOut > 0)
        {
            Logger.LogInformation("Run timeout: failed {Count} runs left running past {Timeout}", timedOut, options.RunTimeout);
        }
    }
}
