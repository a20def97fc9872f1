using MediatR;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Engines.Tenants;

/// <summary>Reads a tenant the caller is a member of (viewer or higher).</summary>
public sealed record GetTenant(Caller Caller, Guid TenantId) : IRequest<TenantMembershipSnapshot>, ITenantRead, ICallerCommand;

internal sealed class GetTenantHandler(TenantGate gate) : IRequestHandler<GetTenant, TenantMembershipSnapshot>
{
    public async Task<TenantMembershipSnapshot> Handle(GetTenant query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return new TenantMembershipSnapshot(scope.Tenant, scope.Role);
    }
}
