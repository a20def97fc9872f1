using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Billing;

namespace Platform.Engines.Billing;

/// <summary>Closes the previous UTC month once it has ended and until its close has finished, checking every interval; any number of copies may run (the close numbers invoices under a row lock and never makes two for one tenant and month).</summary>
internal sealed class BillingCloseJob(IServiceScopeFactory scopes, EngineOptions options, IClock clock, ILogger<BillingCloseJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, options.BillingCloseJobIntervalMinutes)));
        do
        {
            try
            {
                await CloseEndedMonthAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Billing close: the close of the previous month failed; it is tried again at the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Closes the month before the current one unless its close has finished already; returns the summary, or null when there was nothing to do.</summary>
    public async Task<BillingCloseSummary?> CloseEndedMonthAsync(CancellationToken cancellationToken)
    {
        var (currentStart, _) = UsagePricing.MonthOf(clock.UtcNow);
        var previous = currentStart.AddMonths(-1);
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        await using (var session = await services.GetRequiredService<IDbSessionFactory>().OpenAsync(null, null, cancellationToken))
        {
            if (await services.GetRequiredService<IInvoiceDriver>().IsPeriodClosedAsync(session, previous, cancellationToken))
            {
                return null;
            }
        }
        var summary = await services.GetRequiredService<IMediator>().Send(new CloseBillingPeriod(Caller.System, previous.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
        logger.LogInformation("Billing close of {Period}: {Created} invoices created ({Total} cents), {Skipped} already invoiced, {Nothing} with nothing to bill",
            summary.Period, summary.InvoicesCreated, summary.CreatedTotalCents, summary.SkippedAlreadyInvoiced, summary.NothingToBill);
        return summary;
    }
}
