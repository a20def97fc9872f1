using MediatR;
using Platform.Drivers.Runs;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Runs;
using Platform.Models.Tenants;

namespace Platform.Engines.Runs;

/// <summary>Reads one worker of the catalogue with its published versions (any operator), retired and private ones included.</summary>
public sealed record GetWorkerDetail(Caller Caller, string WorkerId) : IRequest<WorkerDetail>, ICallerCommand;

/// <summary>Holds a worker's current definition and every version published, newest first.</summary>
public sealed record WorkerDetail(WorkerSnapshot Worker, IReadOnlyList<WorkerVersionSnapshot> Versions);

internal sealed class GetWorkerDetailHandler(IDbSessionFactory sessions, IWorkerDriver workers) : IRequestHandler<GetWorkerDetail, WorkerDetail>
{
    public async Task<WorkerDetail> Handle(GetWorkerDetail query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var worker = await workers.FetchWorkerAsync(session, query.WorkerId, cancellationToken) ?? throw new NotFoundException("worker");
        return new WorkerDetail(worker, await workers.ListVersionsAsync(session, worker.Id, cancellationToken));
    }
}

/// <summary>Lists the workers a tenant may run (viewer or higher, key "runs:read"): the public ones and the private ones it was given, not retired.</summary>
public sealed record ListTenantWorkers(Caller Caller, Guid TenantId) : IRequest<IReadOnlyList<WorkerSnapshot>>, ITenantRead, ICallerCommand;

internal sealed class ListTenantWorkersHandler(TenantGate gate, IWorkerDriver workers) : IRequestHandler<ListTenantWorkers, IReadOnlyList<WorkerSnapshot>>
{
    public async Task<IReadOnlyList<WorkerSnapshot>> Handle(ListTenantWorkers query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "runs:read");
        var all = await workers.ListWorkersAsync(scope.Session, cancellationToken);
        var granted = (await workers.ListAccessAsync(scope.Session, query.TenantId, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        return all.Where(w => w.Status != WorkerStatus.Retired && (w.IsPublic || granted.Contains(w.Id))).ToList();
    }
}

/// <summary>Decides whether a tenant sees a worker: public ones, and private ones it was given. A worker it does not see answers as one that
/// does not exist, so that private workers' ids do not leak.</summary>
internal static class WorkerVisibility
{
    public static async Task<WorkerSnapshot?> FindVisibleAsync(IWorkerDriver workers, IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        var worker = await workers.FetchWorkerAsync(session, workerId, cancellationToken);
        return worker is not null && (worker.IsPublic || await workers.HasAccessAsync(session, tenantId, worker.Id, cancellationToken)) ? worker : null;
    }
}
