using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Runs;

/// <summary>Fails runs left running past the configured timeout and frees their slots, every sweep interval; any number of copies may run (the runs are claimed with SKIP LOCKED).</summary>
internal sealed class RunTimeoutJob(IServiceScopeFactory scopes, EngineOptions options, ILogger<RunTimeoutJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.RunTimeoutSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var timedOut = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(), stoppingToken);
                if (timedOut > 0)
                {
                    logger.LogInformation("Run timeout: failed {Count} runs left running past {Timeout}", timedOut, options.RunTimeout);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Run timeout: the sweep failed");
            }
        }
    }
}
