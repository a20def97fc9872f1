using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Gdpr;

/// <summary>Holds the retention settings (section "Retention"): how long deleted tenants are kept and how often the retention job runs.</summary>
public sealed class RetentionOptions
{
    /// <summary>Gets or sets how long a soft-deleted tenant's rows are kept before the purge job deletes them, in days (Retention:DeletedTenantDays).</summary>
    [Range(0, 3650)]
    public int DeletedTenantDays { get; set; } = 30;

    /// <summary>Gets or sets how often the purge and plan-retention jobs run, in minutes (Retention:JobIntervalMinutes).</summary>
    [Range(1, 10_080)]
    public int JobIntervalMinutes { get; set; } = 60;
}
