using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Email;

/// <summary>Sends due emails from the outbox every Email:PollIntervalMilliseconds, draining full batches at once; any number of copies may run (messages are leased with FOR UPDATE SKIP LOCKED).</summary>
internal sealed class EmailDispatchJob(IServiceScopeFactory scopes, EngineOptions options, ILogger<EmailDispatchJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(50, options.Email.PollIntervalMilliseconds)));
        do
        {
            try
            {
                DispatchResult result;
                do
                {
                    await using var scope = scopes.CreateAsyncScope();
                    result = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new DispatchEmails(), stoppingToken);
                }
                while (result.Claimed >= options.Email.BatchSize && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Email dispatch failed; retrying on the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
