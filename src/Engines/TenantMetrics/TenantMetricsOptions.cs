using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.TenantMetrics;

/// <summary>Holds the settings of seed 003's series (section "TenantMetrics", ADR 0660).</summary>
public sealed class TenantMetricsOptions
{
    /// <summary>Gets or sets how long one reading of the database serves the per-plan series of /metrics and the per-tenant list of /metrics/tenants,
    /// in milliseconds (TenantMetrics:CacheMilliseconds); 0 reads at every scrape.</summary>
    [Range(0, 3_600_000)]
    public int CacheMilliseconds { get; set; } = 60_000;

    /// <summary>Gets or sets how many tenants /metrics/tenants lists per meter, those with the highest share of their quota used (TenantMetrics:TopTenants).</summary>
    [Range(1, 10_000)]
    public int TopTenants { get; set; } = 100;
}
