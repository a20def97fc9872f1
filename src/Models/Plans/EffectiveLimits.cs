using Platform.Models.Tenants;

namespace Platform.Models.Plans;

/// <summary>Gives a tenant's effective limits, the one rule every check reads: the plan's limits for the tenant's status (a trial's own limits, the
/// free plan's while a paid tenant awaits its first subscription), then the operator's per-tenant overrides on top (ADR 0562).</summary>
public static class EffectiveLimits
{
    /// <summary>Computes the effective limits of a plan in a status with the given overrides.</summary>
    public static PlanLimits Of(Plan plan, TenantStatus status, string? suspendedReason, IReadOnlyList<QuotaOverride> overrides) =>
        Quotas.Apply(plan.LimitsWhile(status, suspendedReason), overrides.ToDictionary(o => o.Quota, o => o.Value));

    /// <summary>Computes a tenant's effective limits now, or null when its plan is not in the catalogue.</summary>
    public static PlanLimits? Of(TenantSnapshot tenant, IReadOnlyList<QuotaOverride> overrides) =>
        PlanCatalog.Find(tenant.Plan) is { } plan ? Of(plan, tenant.Status, tenant.SuspendedReason, overrides) : null;

    /// <summary>Computes the plan's own limits (no status: a priced month, the retention of rows), then the overrides.</summary>
    public static PlanLimits OfPlan(Plan plan, IReadOnlyList<QuotaOverride> overrides) =>
        Quotas.Apply(plan.Limits, overrides.ToDictionary(o => o.Quota, o => o.Value));
}
