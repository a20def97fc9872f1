using MediatR;
using Platform.Drivers.Runs;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Runs;
using Platform.Models.Tenants;

namespace Platform.Engines.Runs;

/// <summary>Reads one run of the tenant (viewer or higher, key "runs:read"); another tenant's run is 404.</summary>
public sealed record GetRun(Caller Caller, Guid TenantId, Guid RunId) : IRequest<RunSnapshot>, ITenantRead, ICallerCommand;

internal sealed class GetRunHandler(TenantGate gate, IRunDriver runs) : IRequestHandler<GetRun, RunSnapshot>
{
    public async Task<RunSnapshot> Handle(GetRun query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "runs:read");
        return await runs.FetchRunAsync(scope.Session, query.TenantId, query.RunId, cancellationToken) ?? throw new NotFoundException("run");
    }
}
