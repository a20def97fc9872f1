using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Sessions;

/// <summary>Says whether a command reads or changes the tenant; writes are refused while a tenant is suspended or deleted.</summary>
public enum Access
{
    Read,
    Write,
}

/// <summary>Holds an open tenant-scoped session with the tenant and the caller's role as read inside it.</summary>
internal sealed class TenantScope(IDbSession session, TenantSnapshot tenant, TenantRole role) : IAsyncDisposable
{
    public IDbSession Session { get; } = session;
    public TenantSnapshot Tenant { get; } = tenant;
    public TenantRole Role { get; } = role;

    public Task CommitAsync(CancellationToken cancellationToken) => Session.CommitAsync(cancellationToken);

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}

/// <summary>Opens tenant-scoped sessions and applies the application lock: membership (else 404), role (else 403) and suspension (403 tenant_suspended).</summary>
internal sealed class TenantGate(IDbSessionFactory sessions, ITenantDriver tenants)
{
    public async Task<TenantScope> EnterAsync(Guid tenantId, Caller caller, TenantRole minimumRole, Access access, CancellationToken cancellationToken)
    {
        var session = await sessions.OpenAsync(tenantId, caller.UserId, cancellationToken);
        try
        {
            var (tenant, role) = await ReadAccessAsync(session, tenantId, caller, cancellationToken);
            if (tenant.Status.BlocksWrites() && (access == Access.Write || role < TenantRole.Admin))
            {
                throw new TenantSuspendedException();
            }
            if (role < minimumRole)
            {
                throw new ForbiddenException($"This action needs the {minimumRole.ToWire()} role or higher.");
            }
            return new TenantScope(session, tenant, role);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private async Task<(TenantSnapshot Tenant, TenantRole Role)> ReadAccessAsync(IDbSession session, Guid tenantId, Caller caller, CancellationToken cancellationToken)
    {
        if (caller.Kind == CallerKind.System)
        {
            var tenant = await tenants.FetchTenantAsync(session, tenantId, cancellationToken)
                ?? throw new NotFoundException("tenant");
            return (tenant, TenantRole.Owner);
        }
        var access = await tenants.FetchAccessAsync(session, tenantId, caller.RequireUserId(), cancellationToken)
            ?? throw new NotFoundException("tenant");
        return (access.Tenant, access.Role);
    }
}
