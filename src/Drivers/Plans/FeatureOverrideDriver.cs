using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Plans;

namespace Platform.Drivers.Plans;

/// <summary>Reads and writes a tenant's per-tenant feature overrides (operators' grants and revocations).</summary>
public interface IFeatureOverrideDriver
{
    /// <summary>Is the PostgreSQL channel of changes to what a tenant may use (plan, status, feature overrides, IP allowlist): "changed:{tenant id}",
    /// sent by triggers of migration 0550 and by the engines, and "dropped:{tenant id}" when an instance has dropped its cached entries.</summary>
    const string TenantAccessChannel = "platform_tenant_access";

    /// <summary>Lists the tenant's feature overrides in feature name order.</summary>
    Task<IReadOnlyList<FeatureOverride>> ListFeatureOverridesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces one feature override and returns it.</summary>
    Task<FeatureOverride> UpsertFeatureOverrideAsync(IDbSession session, Guid tenantId, string feature, bool enabled, string? reason, string setBy, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes one feature override and returns the deleted row, or null when there was none.</summary>
    Task<FeatureOverride?> DeleteFeatureOverrideAsync(IDbSession session, Guid tenantId, string feature, CancellationToken cancellationToken);
}

internal sealed class FeatureOverrideDriver : IFeatureOverrideDriver
{
    private const string Columns = "tenant_id, feature, enabled, reason, set_by, created_at, updated_at";

    public async Task<IReadOnlyList<FeatureOverride>> ListFeatureOverridesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {Columns} FROM tenant_feature_overrides WHERE tenant_id = @tenantId ORDER BY feature",
            new { tenantId }, (Row r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<FeatureOverride> UpsertFeatureOverrideAsync(IDbSession session, Guid tenantId, string feature, bool enabled, string? reason, string setBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<Row>(
            """
            INSERT INTO tenant_feature_overrides AS o (tenant_id, feature, enabled, reason, set_by, created_at, updated_at)
            VALUES (@tenantId, @feature, @enabled, @reason, @setBy, @now, @now)
            ON CONFLICT (tenant_id, feature) DO UPDATE
                SET enabled = EXCLUDED.enabled, reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, updated_at = EXCLUDED.updated_at
            RETURNING o.tenant_id, o.feature, o.enabled, o.reason, o.set_by, o.created_at, o.updated_at
            """,
            new { tenantId, feature, enabled, reason, setBy, now }, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<FeatureOverride?> DeleteFeatureOverrideAsync(IDbSession session, Guid tenantId, string feature, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"DELETE FROM tenant_feature_overrides WHERE tenant_id = @tenantId AND feature = @feature RETURNING {Columns}",
            new { tenantId, feature }, (Row r) => r.ToSnapshot(), cancellationToken);
    }

    private sealed class Row
    {
        public Guid TenantId { get; init; }
        public string Feature { get; init; } = "";
        public bool Enabled { get; init; }
        public string? Reason { get; init; }
        public string SetBy { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public FeatureOverride ToSnapshot() => new(TenantId, Feature, Enabled, Reason, SetBy, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }
}
