using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Runs;
using Platform.Models.Runs;

namespace Platform.Engines.Runs;

/// <summary>Lists the global worker registry with its pricing.</summary>
public sealed record ListWorkers : IRequest<IReadOnlyList<WorkerSnapshot>>;

internal sealed class ListWorkersHandler(IDbSessionFactory sessions, IWorkerDriver workers) : IRequestHandler<ListWorkers, IReadOnlyList<WorkerSnapshot>>
{
    public async Task<IReadOnlyList<WorkerSnapshot>> Handle(ListWorkers query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await workers.ListWorkersAsync(session, cancellationToken);
    }
}
