using MediatR;
using Platform.Engines.Plans;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Operators;

namespace Platform.Engines.Usage;

/// <summary>Reads the meter catalogue afresh for an operator (viewer or higher): every meter with its prices per plan.</summary>
public sealed record ListMeterCatalogue(Caller Caller) : IRequest<MeterCatalogueView>, ICallerCommand;

/// <summary>Holds the meter catalogue as read: meters by key and their prices by meter then plan.</summary>
public sealed record MeterCatalogueView(IReadOnlyList<Models.Usage.MeterDefinition> Meters, IReadOnlyList<Models.Usage.MeterPrice> Prices);

internal sealed class ListMeterCatalogueHandler(IDbSessionFactory sessions, MeterCatalog catalog, IClock clock) : IRequestHandler<ListMeterCatalogue, MeterCatalogueView>
{
    public async Task<MeterCatalogueView> Handle(ListMeterCatalogue query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var read = await catalog.LoadAsync(session, clock.UtcNow, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new MeterCatalogueView(read.Meters.Values.OrderBy(m => m.Key, StringComparer.Ordinal).ToList(), read.Prices);
    }
}
