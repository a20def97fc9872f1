using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Engines.Billing;

namespace Platform.Engines.Jobs;

/// <summary>Every Billing:JobIntervalSeconds, runs billing's lifecycle work: pushes open invoices to Stripe when online, marks tenants with overdue offline invoices past_due, suspends tenants past_due beyond the grace period, applies period ends (pending downgrades, cancellations, offline renewals), reminds and ends trials; safe with many copies
/// (each command claims its tenants with SKIP LOCKED and re-checks under the lock).</summary>
internal sealed class BillingLifecycleJob(IServiceScopeFactory scopes, EngineOptions options, ILogger<BillingLifecycleJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.BillingJobIntervalSeconds)));
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                var sent = await mediator.Send(new PushInvoicesToStripe(), stoppingToken);
                if (sent > 0)
                {
                    logger.LogInformation("Billing: pushed {Count} invoices to Stripe", sent);
                }
                var overdue = await mediator.Send(new MarkOverdueInvoices(), stoppingToken);
                if (overdue > 0)
                {
                    logger.LogInformation("Billing: marked {Count} tenants past due for overdue offline invoices", overdue);
                }
                var suspended = await mediator.Send(new SuspendOverdueTenants(), stoppingToken);
                if (suspended > 0)
                {
                    logger.LogInformation("Billing: suspended {Count} tenants past due beyond {Days} days", suspended, options.DunningGraceDays);
                }
                var periodEnds = await mediator.Send(new ApplyPeriodEnds(), stoppingToken);
                if (periodEnds > 0)
                {
                    logger.LogInformation("Billing: applied {Count} subscription period ends", periodEnds);
                }
                var trials = await mediator.Send(new RunTrialLifecycle(), stoppingToken);
                if (trials.RemindersQueued + trials.TrialsEnded > 0)
                {
                    logger.LogInformation("Billing: queued {Reminders} trial reminders, ended {Ended} trials", trials.RemindersQueued, trials.TrialsEnded);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Billing: the lifecycle run failed; retrying on the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
