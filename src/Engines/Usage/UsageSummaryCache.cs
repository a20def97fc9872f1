using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Keeps, per tenant, the tenant as read and the current month's summary built from its rollups, so that an API key's usage summary needs no database
/// round trip (ADR 0164). An entry lives for Usage:SummaryCacheMilliseconds of real time (not the injected clock); every command of a
/// tenant sent through this process evicts the tenant after it ran (UsageSummaryEviction), so this instance reads its own writes.</summary>
internal sealed class UsageSummaryCache(UsageOptions options) : TenantMonthCache<UsageSummaryCache.Filled>(options.SummaryCacheMilliseconds)
{
    /// <summary>Gives the tenant and the summary of the month starting at period, if held and younger than the time to live.</summary>
    public bool TryGet(Guid tenantId, DateOnly period, out TenantSnapshot tenant, out UsageSummary summary)
    {
        var held = TryGet(tenantId, period, out Filled filled);
        (tenant, summary) = held ? (filled.Tenant, filled.Summary) : (null!, null!);
        return held;
    }

    /// <summary>Stores what a summary read from the database, unless an eviction ran since seenGeneration was read.</summary>
    public void Store(Guid tenantId, DateOnly period, TenantSnapshot tenant, UsageSummary summary, long seenGeneration) =>
        Store(tenantId, period, new Filled(tenant, summary), seenGeneration);

    /// <summary>Holds a tenant as read and its summary of one month.</summary>
    public sealed record Filled(TenantSnapshot Tenant, UsageSummary Summary);
}
