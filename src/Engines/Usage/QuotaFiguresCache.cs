using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Usage;

/// <summary>Keeps, per tenant, the tenant as read, its effective limits and every meter's figures of the current month, so that an API key's plain quota
/// check needs no database round trip (ADR 0765). Entries live for Usage:SummaryCacheMilliseconds of real time, like the usage summary's; every command of
/// the tenant sent through this process evicts it (UsageSummaryEviction), and so does a reservation made here, so this instance sees its own
/// ingestion, reservations, policy and limit changes at once; an entry is not used past the earliest expiry of the holds it counted.</summary>
internal sealed class QuotaFiguresCache(UsageOptions options) : TenantMonthCache<QuotaFiguresCache.Filled>(options.SummaryCacheMilliseconds)
{
    /// <summary>Holds a tenant as read, its effective limits (null: a plan not in the catalogue) and its meters' figures by name.</summary>
    public sealed record Filled(TenantSnapshot Tenant, PlanLimits? Limits, IReadOnlyDictionary<string, MeterQuotaFigures> Meters)
    {
        /// <summary>Gets the earliest expiry of the holds counted (null: none): from then on the figures over-count what is held.</summary>
        public DateTimeOffset? NextExpiry { get; } = Meters.Values.Min(m => m.NextExpiry);
    }
}
