namespace Platform.Models.TenantMetrics;

/// <summary>Holds one tenant's use of one monthly quota: its plan, the meter, the amount used this month, the effective quota and the percentage (two decimals).</summary>
public sealed record TenantQuotaUsage(Guid TenantId, string Plan, string Meter, decimal Used, long Quota, decimal Percent);

/// <summary>Holds one plan's figures for one meter this month: the highest percentage of the quota any of its tenants used, and how many tenants
/// used at least 80, 90 and 100 percent of it.</summary>
public sealed record PlanQuotaFigures(string Plan, string Meter, decimal MaxPercent, long AtLeast80, long AtLeast90, long AtLeast100);

/// <summary>Holds everything ever metered on one meter, across tenants.</summary>
public sealed record MeterTotal(string Meter, decimal Total);

/// <summary>Holds the figures behind seed 003's series on /metrics: the per-plan quota figures of this month and the all-time totals per meter (ADR 0660).</summary>
public sealed record TenantUsageFigures(IReadOnlyList<PlanQuotaFigures> ByPlan, IReadOnlyList<MeterTotal> Totals);
