using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Gdpr;

/// <summary>Every RetentionJobIntervalMinutes, purges tenants deleted longer ago than the retention window and trims rows older than each plan's retention_days and expired idempotency keys; safe with many copies (the purge locks the tenant row and re-checks).</summary>
internal sealed class RetentionJob(IServiceScopeFactory scopes, EngineOptions options, ILogger<RetentionJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, options.RetentionJobIntervalMinutes)));
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                await mediator.Send(new PurgeDeletedTenants(), stoppingToken);
                await mediator.Send(new PurgeExpiredRows(), stoppingToken);
                await mediator.Send(new Throttles.PurgeThrottleWindows(), stoppingToken);
                await mediator.Send(new Idempotency.PurgeExpiredIdempotencyKeys(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Retention: the purge failed; retrying on the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
