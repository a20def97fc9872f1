using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;

namespace Platform.Engines.Billing;

/// <summary>Every Billing:JobIntervalSeconds, runs billing's lifecycle work: pushes open invoices to Stripe when online, marks tenants with overdue offline invoices past_due, suspends tenants past_due beyond the grace period, applies period ends (pending downgrades, cancellations, offline renewals), grants the month's plan credits, reminds and ends trials; safe with many copies
/// (each command claims its tenants with SKIP LOCKED and re-checks under the lock).</summary>
internal sealed class BillingLifecycleJob(IServiceScopeFactory scopes, BillingOptions options, ILogger<BillingLifecycleJob> logger)
    : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(Math.Max(1, options.JobIntervalSeconds));

    protected override string FailureMessage => "Billing: the lifecycle run failed; retrying on the next tick";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken stoppingToken)
    {
        // Each step on its own: one that fails (Stripe down, say) is logged and retried on the next tick, and the others still run.
        await StepAsync("push invoices to Stripe", async () =>
        {
            var sent = await mediator.Send(new PushInvoicesToStripe(), stoppingToken);
            if (sent > 0)
            {
                Logger.LogInformation("Billing: pushed {Count} invoices to Stripe", sent);
            }
        });
        await StepAsync("mark overdue invoices", async () =>
        {
            var overdue = await mediator.Send(new MarkOverdueInvoices(), stoppingToken);
            if (overdue > 0)
            {
                Logger.LogInformation("Billing: marked {Count} tenants past due for overdue offline invoices", overdue);
            }
        });
        await StepAsync("suspend overdue tenants", async () =>
        {
            var suspended = await mediator.Send(new SuspendOverdueTenants(), stoppingToken);
            if (suspended > 0)
            {
                Logger.LogInformation("Billing: suspended {Count} tenants past due beyond {Days} days", suspended, options.DunningGraceDays);
            }
        });
        await StepAsync("apply period ends", async () =>
        {
            var periodEnds = await mediator.Send(new ApplyPeriodEnds(), stoppingToken);
            if (periodEnds > 0)
            {
                Logger.LogInformation("Billing: applied {Count} subscription period ends", periodEnds);
            }
        });
        await StepAsync("grant monthly credits", async () =>
        {
            var granted = await mediator.Send(new GrantMonthlyCredits(), stoppingToken);
            if (granted > 0)
            {
                Logger.LogInformation("Billing: started the credits month of {Count} tenants", granted);
            }
        });
        await StepAsync("send invoice emails", async () =>
        {
            var queued = await mediator.Send(new SendInvoiceNotifications(), stoppingToken);
            if (queued > 0)
            {
                Logger.LogInformation("Billing: queued {Count} invoice emails", queued);
            }
        });
        await StepAsync("run trials", async () =>
        {
            var trials = await mediator.Send(new RunTrialLifecycle(), stoppingToken);
            if (trials.RemindersQueued + trials.TrialsEnded > 0)
            {
                Logger.LogInformation("Billing: queued {Reminders} trial reminders, ended {Ended} trials", trials.RemindersQueued, trials.TrialsEnded);
            }
        });
    }

    private async Task StepAsync(string name, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Logger.LogWarning(e, "Billing: the lifecycle step '{Step}' failed; retrying on the next tick", name);
        }
    }
}
