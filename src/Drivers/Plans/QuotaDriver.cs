using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Drivers.Plans;

/// <summary>Reads and writes a tenant's plan, its quota columns and its per-tenant quota overrides.</summary>
public interface IQuotaDriver
{
    /// <summary>Lists the tenant's quota overrides in quota name order.</summary>
    Task<IReadOnlyList<QuotaOverride>> ListOverridesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces one quota override and returns it.</summary>
    Task<QuotaOverride> UpsertOverrideAsync(IDbSession session, Guid tenantId, string quota, long value, string? reason, string setBy, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes one quota override and returns the deleted row, or null when there was none.</summary>
    Task<QuotaOverride?> DeleteOverrideAsync(IDbSession session, Guid tenantId, string quota, CancellationToken cancellationToken);

    /// <summary>Sets the tenant's plan and all its quota columns in one statement and returns the new row, or null when not visible.</summary>
    Task<TenantSnapshot?> SetPlanAndQuotasAsync(IDbSession session, Guid tenantId, string plan, PlanQuotas quotas, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class QuotaDriver : IQuotaDriver
{
    private const string Columns = "tenant_id, quota, value, reason, set_by, created_at, updated_at";

    public async Task<IReadOnlyList<QuotaOverride>> ListOverridesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {Columns} FROM tenant_quota_overrides WHERE tenant_id = @tenantId ORDER BY quota",
            new { tenantId }, (OverrideRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<QuotaOverride> UpsertOverrideAsync(IDbSession session, Guid tenantId, string quota, long value, string? reason, string setBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<OverrideRow>(
            """
            INSERT INTO tenant_quota_overrides AS o (tenant_id, quota, value, reason, set_by, created_at, updated_at)
            VALUES (@tenantId, @quota, @value, @reason, @setBy, @now, @now)
            ON CONFLICT (tenant_id, quota) DO UPDATE
                SET value = EXCLUDED.value, reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, updated_at = EXCLUDED.updated_at
            RETURNING o.tenant_id, o.quota, o.value, o.reason, o.set_by, o.created_at, o.updated_at
            """,
            new { tenantId, quota, value, reason, setBy, now }, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<QuotaOverride?> DeleteOverrideAsync(IDbSession session, Guid tenantId, string quota, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"DELETE FROM tenant_quota_overrides WHERE tenant_id = @tenantId AND quota = @quota RETURNING {Columns}",
            new { tenantId, quota }, (OverrideRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<TenantSnapshot?> SetPlanAndQuotasAsync(IDbSession session, Guid tenantId, string plan, PlanQuotas quotas, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE tenants AS t SET plan = @plan,
                max_workers = @MaxWorkers, max_runs_per_day = @MaxRunsPerDay, max_concurrent_runs = @MaxConcurrentRuns,
                max_tokens_per_month = @MaxTokensPerMonth, max_api_keys = @MaxApiKeys, updated_at = @now
            WHERE t.id = @tenantId
            RETURNING {TenantRow.Columns}
            """,
            new
            {
                tenantId, plan, quotas.MaxWorkers, quotas.MaxRunsPerDay, quotas.MaxConcurrentRuns,
                quotas.MaxTokensPerMonth, quotas.MaxApiKeys, now,
            },
            (TenantRow r) => r.ToSnapshot(), cancellationToken);
    }

    private sealed class OverrideRow
    {
        public Guid TenantId { get; init; }
        public string Quota { get; init; } = "";
        public long Value { get; init; }
        public string? Reason { get; init; }
        public string SetBy { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public QuotaOverride ToSnapshot() => new(TenantId, Quota, Value, Reason, SetBy, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }
}
