using System.Text.Json;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.TenantMetrics;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Models.TenantMetrics;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.TenantMetrics;

/// <summary>Reads the figures of seed 003's per-plan series: this month's quota use per plan and meter, and the all-time totals per meter (ADR 0660).</summary>
public sealed record ReadTenantUsageFigures : IRequest<TenantUsageFigures>;

/// <summary>Lists, per meter, the TenantMetrics:TopTenants tenants with the highest share of their monthly quota used (the drill-down of
/// /metrics/tenants, ADR 0660); one reading serves TenantMetrics:CacheMilliseconds.</summary>
public sealed record ReadTopTenantQuotaUsage : IRequest<IReadOnlyList<TenantQuotaUsage>>;

/// <summary>Keeps the last per-tenant list of /metrics/tenants for TenantMetrics:CacheMilliseconds, so that scrapes from several Prometheus servers
/// read the database once.</summary>
internal sealed class TopTenantQuotaUsageCache
{
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public IReadOnlyList<TenantQuotaUsage>? Last { get; set; }

    public long ReadAt { get; set; }
}

internal sealed class ReadTenantUsageFiguresHandler(
    IDbSessionFactory sessions, ITenantMetricsDriver driver, IClock clock, TenantMetricsOptions options, TopTenantQuotaUsageCache cache)
    : IRequestHandler<ReadTenantUsageFigures, TenantUsageFigures>, IRequestHandler<ReadTopTenantQuotaUsage, IReadOnlyList<TenantQuotaUsage>>
{
    public async Task<TenantUsageFigures> Handle(ReadTenantUsageFigures query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var byPlan = await driver.ReadQuotaFiguresByPlanAsync(session, Month(), PlanLimitsJson.Value, cancellationToken);
        var totals = await driver.ReadUsageTotalsAsync(session, cancellationToken);
        return new TenantUsageFigures(byPlan, totals);
    }

    public async Task<IReadOnlyList<TenantQuotaUsage>> Handle(ReadTopTenantQuotaUsage query, CancellationToken cancellationToken)
    {
        await cache.Gate.WaitAsync(cancellationToken);
        try
        {
            if (cache.Last is { } last && System.Diagnostics.Stopwatch.GetElapsedTime(cache.ReadAt).TotalMilliseconds < options.CacheMilliseconds)
            {
                return last;
            }
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            cache.Last = await driver.ReadTopQuotaUsageAsync(session, Month(), PlanLimitsJson.Value, options.TopTenants, cancellationToken);
            cache.ReadAt = System.Diagnostics.Stopwatch.GetTimestamp();
            return cache.Last;
        }
        finally
        {
            cache.Gate.Release();
        }
    }

    private DateOnly Month() => DateOnly.FromDateTime(Meters.MonthStart(clock.UtcNow).UtcDateTime);

    /// <summary>Gives the monthly quotas of every plan in every status, as the database function reads them ("plan|status|awaiting" to quota to
    /// value), from the one rule of ADR 0562 (<see cref="Plan.LimitsWhile"/>); the operator's overrides are applied in the database.</summary>
    private static readonly Lazy<string> PlanLimitsJson = new(() =>
    {
        var limits = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var plan in PlanCatalog.All)
        {
            foreach (var status in Enum.GetValues<TenantStatus>())
            {
                foreach (var awaiting in new[] { false, true })
                {
                    var effective = plan.LimitsWhile(status, awaiting ? TenantStatuses.AwaitingSubscriptionReason : null);
                    limits[$"{plan.Id}|{status.ToWire()}|{(awaiting ? "true" : "false")}"] = new(StringComparer.Ordinal)
                    {
                        [Quotas.ApiCallsPerMonth] = effective.ApiCallsPerMonth,
                        [Quotas.StorageGb] = effective.StorageGb,
                        [Quotas.GpuHoursPerMonth] = effective.GpuHoursPerMonth,
                    };
                }
            }
        }
        return JsonSerializer.Serialize(limits);
    });
}
