using MediatR;
using Platform.Drivers.Runs;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Runs;

namespace Platform.Engines.Runs;

/// <summary>Reads the tenant's config of a worker (viewer or higher, key "runs:read"); a worker never configured reads as enabled without limits.</summary>
public sealed record GetWorkerConfig(Caller Caller, Guid TenantId, string WorkerId)
    : IRequest<WorkerConfigSnapshot>, ITenantRead, ICallerCommand;

internal sealed class GetWorkerConfigHandler(TenantGate gate, IWorkerDriver workers) : IRequestHandler<GetWorkerConfig, WorkerConfigSnapshot>
{
    public async Task<WorkerConfigSnapshot> Handle(GetWorkerConfig query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "runs:read");
        _ = await WorkerVisibility.FindVisibleAsync(workers, scope.Session, query.TenantId, query.WorkerId, cancellationToken) ?? throw new NotFoundException("worker");
        return await workers.FetchConfigAsync(scope.Session, query.TenantId, query.WorkerId, cancellationToken)
            ?? new WorkerConfigSnapshot(query.TenantId, query.WorkerId, true, "{}", null, null, 0, null, null);
    }
}
