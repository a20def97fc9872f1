using Platform.Drivers.Sessions;
using Platform.Models.Tenants;

namespace Platform.Drivers.Tenants;

/// <summary>Reads and writes tenants and the caller's access to them.</summary>
public interface ITenantDriver
{
    /// <summary>Claims a slug for a tenant, or returns false when another tenant holds it (waits for an open claim to settle).</summary>
    Task<bool> TryClaimSlugAsync(IDbSession session, string slug, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts a tenant row; the session must be scoped to the new tenant's id.</summary>
    Task<TenantSnapshot> InsertTenantAsync(IDbSession session, NewTenant tenant, CancellationToken cancellationToken);

    /// <summary>Inserts a membership of a user in the session's tenant.</summary>
    Task InsertMembershipAsync(IDbSession session, Guid tenantId, Guid userId, TenantRole role, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches a tenant and the given user's role in it, or null when the user is no member.</summary>
    Task<TenantMembershipSnapshot?> FetchAccessAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);

    /// <summary>Fetches a tenant visible to the session, or null.</summary>
    Task<TenantSnapshot?> FetchTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Takes the tenant row's lock until the transaction ends, serialising changes that check tenant-wide invariants; returns false when the tenant is not visible.</summary>
    Task<bool> LockTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Lists the session user's live tenants with their role, in id order after a cursor id.</summary>
    Task<IReadOnlyList<TenantMembershipSnapshot>> ListMyTenantsAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Finds the tenant id that holds a slug, across tenants, or null.</summary>
    Task<Guid?> FindTenantIdBySlugAsync(IDbSession session, string slug, CancellationToken cancellationToken);

    /// <summary>Applies the non-null fields of a change set and returns the new row, or null when the tenant is not visible.</summary>
    Task<TenantSnapshot?> UpdateTenantAsync(IDbSession session, Guid tenantId, TenantChanges changes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the status, the suspension reason and the deletion time, and returns the new row, or null when not visible.</summary>
    Task<TenantSnapshot?> SetTenantStatusAsync(IDbSession session, Guid tenantId, TenantStatus status, string? suspendedReason, DateTimeOffset? deletedAt, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class TenantDriver : ITenantDriver
{
    public async Task<bool> TryClaimSlugAsync(IDbSession session, string slug, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            "SELECT claim_tenant_slug(@slug, @tenantId)", new { slug, tenantId }, cancellationToken);
    }

    public async Task<TenantSnapshot> InsertTenantAsync(IDbSession session, NewTenant tenant, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<TenantRow>(
            $"""
            INSERT INTO tenants AS t (id, name, slug, plan, status, trial_ends_at, billing_email,
                max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys,
                last_run_reset_at, created_at, updated_at)
            VALUES (@Id, @Name, @Slug, @Plan, @Status, @TrialEndsAt, @BillingEmail,
                @MaxWorkers, @MaxRunsPerDay, @MaxConcurrentRuns, @MaxTokensPerMonth, @MaxApiKeys,
                @Now, @Now, @Now)
            RETURNING {TenantRow.Columns}
            """,
            new
            {
                tenant.Id, tenant.Name, tenant.Slug, tenant.Plan, Status = tenant.Status.ToWire(), tenant.TrialEndsAt,
                tenant.BillingEmail, tenant.Quotas.MaxWorkers, tenant.Quotas.MaxRunsPerDay, tenant.Quotas.MaxConcurrentRuns,
                tenant.Quotas.MaxTokensPerMonth, tenant.Quotas.MaxApiKeys, tenant.Now,
            },
            cancellationToken);
        return row.ToSnapshot();
    }

    public async Task InsertMembershipAsync(IDbSession session, Guid tenantId, Guid userId, TenantRole role, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at)
            VALUES (@tenantId, @userId, @role, @now, @now)
            """,
            new { tenantId, userId, role = role.ToWire(), now }, cancellationToken);
    }

    public async Task<TenantMembershipSnapshot?> FetchAccessAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        // Also the first statement of a gate session: it carries the pending scope in the same round trip.
        var row = await session.Npgsql().ReadScopedAsync<TenantRow>(
            $"""
            SELECT {TenantRow.Columns}, m.role FROM tenants t JOIN memberships m ON m.tenant_id = t.id
            WHERE t.id = @tenantId AND m.tenant_id = @tenantId AND m.user_id = @userId
            """,
            [("tenantId", tenantId), ("userId", userId)], cancellationToken);
        return row?.ToMembershipSnapshot();
    }

    public async Task<TenantSnapshot?> FetchTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        // Also the first statement of a gate session: it carries the pending scope in the same round trip.
        var row = await session.Npgsql().ReadScopedAsync<TenantRow>(
            $"SELECT {TenantRow.Columns} FROM tenants t WHERE t.id = @tenantId", [("tenantId", tenantId)], cancellationToken);
        return row?.ToSnapshot();
    }

    public async Task<bool> LockTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var locked = await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT id FROM tenants WHERE id = @tenantId FOR UPDATE", new { tenantId }, cancellationToken);
        return locked is not null;
    }

    public async Task<IReadOnlyList<TenantMembershipSnapshot>> ListMyTenantsAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT role, id, name, slug, plan, status, trial_ends_at, suspended_reason, billing_email,
                   max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys,
                   runs_today, runs_this_month, tokens_this_month, last_run_reset_at, onboarding_state,
                   settings, is_synthetic, created_at, updated_at, deleted_at
            FROM my_tenants(@after, @limit)
            """,
            new { after, limit }, (TenantRow r) => r.ToMembershipSnapshot(), cancellationToken);
    }

    public async Task<Guid?> FindTenantIdBySlugAsync(IDbSession session, string slug, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT tenant_id_by_slug(@slug)", new { slug }, cancellationToken);
    }

    public async Task<TenantSnapshot?> UpdateTenantAsync(IDbSession session, Guid tenantId, TenantChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE tenants AS t SET
                name = coalesce(@Name, t.name),
                billing_email = coalesce(@BillingEmail, t.billing_email),
                settings = coalesce(@Settings::jsonb, t.settings),
                onboarding_state = coalesce(@OnboardingState, t.onboarding_state),
                updated_at = @now
            WHERE t.id = @tenantId
            RETURNING {TenantRow.Columns}
            """,
            new { tenantId, changes.Name, changes.BillingEmail, changes.Settings, changes.OnboardingState, now },
            (TenantRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<TenantSnapshot?> SetTenantStatusAsync(IDbSession session, Guid tenantId, TenantStatus status, string? suspendedReason, DateTimeOffset? deletedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE tenants AS t SET status = @status, suspended_reason = @suspendedReason,
                deleted_at = @deletedAt, updated_at = @now
            WHERE t.id = @tenantId
            RETURNING {TenantRow.Columns}
            """,
            new { tenantId, status = status.ToWire(), suspendedReason, deletedAt, now }, (TenantRow r) => r.ToSnapshot(), cancellationToken);
    }
}
