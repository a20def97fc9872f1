using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Gives the monthly quota of a meter for a tenant: tokens from the tenant's own limit column, the rest from its effective limits (plan or trial
/// limits, then the operator's overrides: <see cref="EffectiveLimits"/>); null when the meter has none, -1 when unlimited.</summary>
internal static class MeterQuotas
{
    /// <summary>Lists the meters that carry a quota, shown in the summary even before their first use.</summary>
    public static IReadOnlyList<string> Known { get; } = [Meters.ApiCalls, Meters.GpuHours, Meters.StorageGb, Meters.Tokens];

    public static long? For(TenantSnapshot tenant, PlanLimits? limits, string meter)
    {
        return meter switch
        {
            Meters.Tokens => tenant.MaxTokensPerMonth,
            Meters.ApiCalls => limits?.ApiCallsPerMonth,
            Meters.StorageGb => limits?.StorageGb,
            Meters.GpuHours => limits?.GpuHoursPerMonth,
            _ => null,
        };
    }

    /// <summary>Builds one meter's line of the summary; the percentage has two decimals and is null without a finite quota.</summary>
    public static MeterUsage Line(TenantSnapshot tenant, PlanLimits? limits, string meter, decimal used, DateTimeOffset now)
    {
        var quota = For(tenant, limits, meter);
        decimal? percentage = quota switch
        {
            null or PlanCatalog.Unlimited => null,
            0 => used > 0 ? 100m : 0m,
            _ => Math.Round(used * 100m / quota.Value, 2, MidpointRounding.AwayFromZero),
        };
        return new MeterUsage(meter, used, quota, percentage, Meters.MonthStart(now), Meters.NextMonthStart(now));
    }
}
