using Platform.Models.Plans;

namespace Platform.Models.Billing;

/// <summary>Holds one meter's use this UTC month as the billing summary shows it: used, what the plan includes (null when unlimited), the overage beyond
/// it and what that overage costs so far, in minor units of the tenant's currency (the estimate's overage line for the meter, 0 when none).</summary>
public sealed record MeterUsage(string Meter, decimal Used, decimal? Included, decimal Overage, long CostCents, string Currency);

/// <summary>Builds the billing summary's current_usage from the same figures the estimate prices (ADR 0721): the built-in meters always (used 0 when not used),
/// then every other meter the catalogue prices for the plan or the tenant used, by key.</summary>
public static class CurrentUsage
{
    /// <summary>Lists the meters' use against the effective limits and the catalogue's included amounts; the cost is the estimate's line for the meter.</summary>
    public static IReadOnlyList<MeterUsage> Of(PricedPeriod estimate, IReadOnlyDictionary<string, decimal> usage, PlanLimits limits, string planId, MeterPricing pricing)
    {
        var costs = estimate.Lines.Where(l => l.Kind.StartsWith("overage:", StringComparison.Ordinal))
            .ToDictionary(l => l.Kind["overage:".Length..], l => l.AmountCents, StringComparer.Ordinal);
        var result = new List<MeterUsage>();
        foreach (var (meter, quota) in new[] { ("api_calls", limits.ApiCallsPerMonth), ("storage_gb", limits.StorageGb), ("gpu_hours", limits.GpuHoursPerMonth) })
        {
            result.Add(Usage(meter, usage.GetValueOrDefault(meter), quota < 0 ? null : quota, costs, estimate.Currency));
        }
        var included = pricing.PricesOf(planId, estimate.Currency).ToDictionary(p => p.Meter, p => p.Included, StringComparer.Ordinal);
        var others = included.Keys.Concat(usage.Keys).Where(m => m is not ("api_calls" or "storage_gb" or "gpu_hours")).Distinct().Order(StringComparer.Ordinal);
        foreach (var meter in others)
        {
            // A meter the plan does not price is never billed: all of its use counts as included.
            decimal? includes = included.TryGetValue(meter, out var amount) ? amount ?? 0m : null;
            result.Add(Usage(meter, usage.GetValueOrDefault(meter), includes, costs, estimate.Currency));
        }
        return result;
    }

    private static MeterUsage Usage(string meter, decimal used, decimal? included, IReadOnlyDictionary<string, long> costs, string currency) =>
        new(meter, used, included, included is { } limit && used > limit ? used - limit : 0m, costs.GetValueOrDefault(meter), currency);
}
