using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Sessions;

/// <summary>Says whether a command reads or changes the tenant; writes are refused while a tenant is suspended or deleted.</summary>
public enum Access
{
    Read,
    Write,
}

/// <summary>Holds an open tenant-scoped session with the tenant and the caller's role as read inside it.</summary>
internal sealed class TenantScope(IDbSession session, TenantSnapshot tenant, TenantRole role, IQuotaDriver? quotas = null) : IAsyncDisposable
{
    private PlanLimits? limits;

    public IDbSession Session { get; } = session;
    public TenantSnapshot Tenant { get; } = tenant;
    public TenantRole Role { get; } = role;

    /// <summary>Gets the tenant's effective limits (plan or trial limits, then the operator's overrides; <see cref="EffectiveLimits"/>), read in this
    /// session on first need and kept for the scope; null for a plan not in the catalogue.</summary>
    public async Task<PlanLimits?> LimitsAsync(CancellationToken cancellationToken)
    {
        if (limits is null)
        {
            var overrides = quotas is null ? [] : await quotas.ListOverridesAsync(Session, Tenant.Id, cancellationToken);
            limits = EffectiveLimits.Of(Tenant, overrides);
        }
        return limits;
    }

    private readonly List<Func<Task>> afterCommit = [];

    /// <summary>Commits, then runs the work registered with <see cref="AfterCommit"/> in order (such as waiting until every instance dropped a changed cache entry).</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        await Session.CommitAsync(cancellationToken);
        foreach (var work in afterCommit)
        {
            await work();
        }
        afterCommit.Clear();
    }

    /// <summary>Registers work that must run only once this scope's transaction has committed.</summary>
    public void AfterCommit(Func<Task> work) => afterCommit.Add(work);

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}

/// <summary>Opens tenant-scoped sessions and applies the application lock: membership or key tenant (else 404), role or key permission (else 403) and suspension (403 tenant_suspended).</summary>
internal sealed class TenantGate(IDbSessionFactory sessions, ITenantDriver tenants, IQuotaDriver? quotas = null)
{
    /// <summary>Opens a session scoped to the tenant and checks the caller: users by role, API keys by the permission named (keys are refused where none is named), operators and the system as owners.</summary>
    public async Task<TenantScope> EnterAsync(
        Guid tenantId, Caller caller, TenantRole minimumRole, Access access, CancellationToken cancellationToken, string? keyPermission = null)
    {
        if (caller.Kind == CallerKind.ApiKey && caller.KeyTenantId != tenantId)
        {
            throw new NotFoundException("tenant");
        }
        // The scope (set_config) travels with the access read below: one round trip for both.
        var session = await sessions.OpenScopePendingAsync(tenantId, caller.UserId, cancellationToken);
        try
        {
            var (tenant, role) = await ReadAccessAsync(session, tenantId, caller, cancellationToken);
            if (caller.Kind == CallerKind.ApiKey)
            {
                CheckKeyPermission(caller, keyPermission);
            }
            CheckStatus(tenant, role, access);
            if (caller.Kind != CallerKind.ApiKey && role < minimumRole)
            {
                throw new ForbiddenException($"This action needs the {minimumRole.ToWire()} role or higher.");
            }
            return new TenantScope(session, tenant, role, quotas);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Applies EnterAsync's checks of an API key caller to a tenant read earlier, without a session (the usage summary's cache).</summary>
    public static void CheckKey(Guid tenantId, Caller caller, TenantSnapshot tenant, Access access, string keyPermission)
    {
        if (caller.Kind != CallerKind.ApiKey || caller.KeyTenantId != tenantId)
        {
            throw new NotFoundException("tenant");
        }
        CheckKeyPermission(caller, keyPermission);
        CheckStatus(tenant, TenantRole.Member, access);
    }

    /// <summary>Applies EnterAsync's checks of a member to a tenant and a role read earlier, without a session (held quota figures, ADR 0795).</summary>
    public static void CheckMember(TenantSnapshot tenant, TenantRole role, TenantRole minimumRole, Access access)
    {
        CheckStatus(tenant, role, access);
        if (role < minimumRole)
        {
            throw new ForbiddenException($"This action needs the {minimumRole.ToWire()} role or higher.");
        }
    }

    private static void CheckKeyPermission(Caller caller, string? keyPermission)
    {
        if (keyPermission is null || !caller.HasPermission(keyPermission))
        {
            throw new ForbiddenException(keyPermission is null
                ? "API keys cannot do this; sign in as a user."
                : $"This API key lacks the '{keyPermission}' permission.");
        }
    }

    private static void CheckStatus(TenantSnapshot tenant, TenantRole role, Access access)
    {
        if (tenant.Status.BlocksWrites() && (access == Access.Write || role < TenantRole.Admin))
        {
            throw new TenantSuspendedException();
        }
    }

    private async Task<(TenantSnapshot Tenant, TenantRole Role)> ReadAccessAsync(IDbSession session, Guid tenantId, Caller caller, CancellationToken cancellationToken)
    {
        if (caller.Kind != CallerKind.User)
        {
            var tenant = await tenants.FetchTenantAsync(session, tenantId, cancellationToken)
                ?? throw new NotFoundException("tenant");
            // Keys act as members within their permissions; operators and the system act as owners.
            return (tenant, caller.Kind == CallerKind.ApiKey ? TenantRole.Member : TenantRole.Owner);
        }
        var access = await tenants.FetchAccessAsync(session, tenantId, caller.RequireUserId(), cancellationToken)
            ?? throw new NotFoundException("tenant");
        return (access.Tenant, access.Role);
    }
}
