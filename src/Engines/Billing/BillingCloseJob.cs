using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;
using Platform.Models;

namespace Platform.Engines.Billing;

/// <summary>Closes the previous UTC month once it has ended and until its close has finished, checking every interval; any number of copies may run (the close numbers invoices under a row lock and never makes two for one tenant and month).</summary>
internal sealed class BillingCloseJob(IServiceScopeFactory scopes, BillingOptions options, ILogger<BillingCloseJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(Math.Max(1, options.CloseJobIntervalMinutes));

    protected override string FailureMessage => "Billing close: the close of the previous month failed; it is tried again at the next tick";

    protected override Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken) => CloseEndedMonthAsync(mediator, cancellationToken);

    /// <summary>Closes the month before the current one unless its close has finished already; returns the summary, or null when there was nothing to do.</summary>
    public async Task<BillingCloseSummary?> CloseEndedMonthAsync(CancellationToken cancellationToken)
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await CloseEndedMonthAsync(scope.ServiceProvider.GetRequiredService<IMediator>(), cancellationToken);
    }

    private async Task<BillingCloseSummary?> CloseEndedMonthAsync(IMediator mediator, CancellationToken cancellationToken)
    {
        if (await mediator.Send(new FindMonthToClose(), cancellationToken) is not { } period)
        {
            return null;
        }
        var summary = await mediator.Send(new CloseBillingPeriod(Caller.System, period), cancellationToken);
        Logger.LogInformation("Billing close of {Period}: {Created} invoices created ({Total} cents), {Skipped} already invoiced, {Nothing} with nothing to bill",
            summary.Period, summary.InvoicesCreated, summary.CreatedTotalCents, summary.SkippedAlreadyInvoiced, summary.NothingToBill);
        return summary;
    }
}
