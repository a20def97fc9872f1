using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Health;

/// <summary>Checks the database every 30 seconds and logs the result; proves a job host is alive and connected.</summary>
internal sealed class HeartbeatJob(IServiceScopeFactory scopes, ILogger<HeartbeatJob> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var databaseTime = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CheckDatabase(), stoppingToken);
                logger.LogInformation("Heartbeat: database time {DatabaseTime:O}", databaseTime);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Heartbeat: the database did not answer");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
