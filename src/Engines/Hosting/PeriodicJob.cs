using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Hosting;

/// <summary>Runs one unit of a feature's background work every interval, each time in a fresh scope, logging a failure and carrying on at the next tick.</summary>
/// <remarks>
/// A job only sends MediatR commands (an architecture test holds it to that): its rules live in the handlers, where the engines own
/// the transaction. Any number of copies may run, in the API or in src/Worker, because every command claims its work in the database.
/// </remarks>
public abstract class PeriodicJob(IServiceScopeFactory scopes, ILogger logger) : BackgroundService
{
    /// <summary>Gets the job's logger, whose category is the job's class.</summary>
    protected ILogger Logger { get; } = logger;

    /// <summary>Gets the factory of the scopes each run happens in.</summary>
    protected IServiceScopeFactory Scopes { get; } = scopes;

    /// <summary>Gets the time between two runs.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>Gets whether the first run waits for the first tick (true) or happens at once when the host starts (false, the default).</summary>
    protected virtual bool WaitsForFirstTick => false;

    /// <summary>Gets what the warning says when a run fails.</summary>
    protected abstract string FailureMessage { get; }

    /// <summary>Does the work of one tick through the mediator of the tick's scope.</summary>
    protected abstract Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken);

    /// <inheritdoc />
    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        if (WaitsForFirstTick && !await timer.WaitForNextTickAsync(stoppingToken))
        {
            return;
        }
        do
        {
            try
            {
                await using var scope = Scopes.CreateAsyncScope();
                await RunOnceAsync(scope.ServiceProvider.GetRequiredService<IMediator>(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Logger.LogWarning(e, "{Failure}", FailureMessage);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
