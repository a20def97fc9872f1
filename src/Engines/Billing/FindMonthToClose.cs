using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Billing;

namespace Platform.Engines.Billing;

/// <summary>Finds the month the close job should close: the UTC month before the current one, as "yyyy-MM", or null when its close has finished already.</summary>
public sealed record FindMonthToClose : IRequest<string?>;

internal sealed class FindMonthToCloseHandler(IDbSessionFactory sessions, IInvoiceDriver invoices, IClock clock) : IRequestHandler<FindMonthToClose, string?>
{
    public async Task<string?> Handle(FindMonthToClose request, CancellationToken cancellationToken)
    {
        var (currentStart, _) = UsagePricing.MonthOf(clock.UtcNow);
        var previous = currentStart.AddMonths(-1);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await invoices.IsPeriodClosedAsync(session, previous, cancellationToken)
            ? null
            : previous.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
    }
}
