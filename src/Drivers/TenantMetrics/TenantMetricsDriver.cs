using Platform.Drivers.Sessions;
using Platform.Models.TenantMetrics;

namespace Platform.Drivers.TenantMetrics;

/// <summary>Reads seed 003's usage figures across tenants through the tenant_quota_usage and usage_totals_by_meter functions (figures only, ADR 0660).</summary>
public interface ITenantMetricsDriver
{
    /// <summary>Aggregates this month's quota use per plan and meter: the highest percentage and the tenants at 80, 90 and 100 percent or more.</summary>
    Task<IReadOnlyList<PlanQuotaFigures>> ReadQuotaFiguresByPlanAsync(IDbSession session, DateOnly period, string limitsJson, CancellationToken cancellationToken);

    /// <summary>Lists, per meter, the tenants with the highest percentage of their quota used this month (at most <paramref name="top"/> per meter).</summary>
    Task<IReadOnlyList<TenantQuotaUsage>> ReadTopQuotaUsageAsync(IDbSession session, DateOnly period, string limitsJson, int top, CancellationToken cancellationToken);

    /// <summary>Sums everything ever metered, per meter.</summary>
    Task<IReadOnlyList<MeterTotal>> ReadUsageTotalsAsync(IDbSession session, CancellationToken cancellationToken);
}

internal sealed class TenantMetricsDriver : ITenantMetricsDriver
{
    public async Task<IReadOnlyList<PlanQuotaFigures>> ReadQuotaFiguresByPlanAsync(IDbSession session, DateOnly period, string limitsJson, CancellationToken cancellationToken) =>
        (await session.QueryAsync<PlanQuotaFigures>(
            """
            SELECT u.plan AS "Plan", u.meter AS "Meter", max(u.percent) AS "MaxPercent",
                   count(*) FILTER (WHERE u.percent >= 80) AS "AtLeast80",
                   count(*) FILTER (WHERE u.percent >= 90) AS "AtLeast90",
                   count(*) FILTER (WHERE u.percent >= 100) AS "AtLeast100"
            FROM tenant_quota_usage(@period::date, @limits::jsonb) u
            GROUP BY u.plan, u.meter
            ORDER BY u.plan, u.meter
            """, new { period = period.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), limits = limitsJson }, cancellationToken)).ToList();

    public async Task<IReadOnlyList<TenantQuotaUsage>> ReadTopQuotaUsageAsync(IDbSession session, DateOnly period, string limitsJson, int top, CancellationToken cancellationToken) =>
        (await session.QueryAsync<TenantQuotaUsage>(
            """
            SELECT "TenantId", "Plan", "Meter", "Used", "Quota", "Percent"
            FROM (
                SELECT u.tenant_id AS "TenantId", u.plan AS "Plan", u.meter AS "Meter", u.used AS "Used", u.quota AS "Quota", u.percent AS "Percent",
                       row_number() OVER (PARTITION BY u.meter ORDER BY u.percent DESC, u.tenant_id) AS rank
                FROM tenant_quota_usage(@period::date, @limits::jsonb) u
            ) ranked
            WHERE rank <= @top
            ORDER BY "Meter", "Percent" DESC, "TenantId"
            """, new { period = period.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), limits = limitsJson, top }, cancellationToken)).ToList();

    public async Task<IReadOnlyList<MeterTotal>> ReadUsageTotalsAsync(IDbSession session, CancellationToken cancellationToken) =>
        (await session.QueryAsync<MeterTotal>(
            """
            SELECT t.meter AS "Meter", t.total AS "Total" FROM usage_totals_by_meter() t ORDER BY t.meter
            """, null, cancellationToken)).ToList();
}
