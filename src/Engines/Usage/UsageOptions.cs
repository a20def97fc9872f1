using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Usage;

/// <summary>Holds the usage settings (section "Usage").</summary>
public sealed class UsageOptions
{
    /// <summary>Gets or sets how long an API key's usage summary may be served from this instance's memory, in milliseconds (Usage:SummaryCacheMilliseconds;
    /// zero turns the cache off).</summary>
    /// <remarks>Writes through this instance evict their tenant at once; the time bounds what other instances wrote (ADR 0164).</remarks>
    [Range(0, 3_600_000)]
    public int SummaryCacheMilliseconds { get; set; } = 1000;

    /// <summary>Gets or sets how long a quota reservation holds its amount when the check names no reserve_seconds, in seconds (Usage:ReservationDefaultSeconds; ADR 0710).</summary>
    [Range(1, 86_400)]
    public int ReservationDefaultSeconds { get; set; } = 60;

    /// <summary>Gets or sets the longest hold a quota check may ask for, in seconds (Usage:ReservationMaxSeconds; at least the default).</summary>
    [Range(1, 86_400)]
    public int ReservationMaxSeconds { get; set; } = 900;

    /// <summary>Gets or sets how long expired reservations are kept before the purge deletes them, in hours (Usage:ReservationRetentionHours).</summary>
    [Range(0, 8_760)]
    public int ReservationRetentionHours { get; set; } = 24;

    /// <summary>Gets or sets the minutes between two runs of the reservation purge (Usage:ReservationPurgeIntervalMinutes).</summary>
    [Range(1, 1_440)]
    public int ReservationPurgeIntervalMinutes { get; set; } = 60;
    /// <summary>Gets or sets whether signed-in members' requests to tenant routes count as the tenant's api_calls, as API key requests do
    /// (Usage:CountUserRequests; ADR 0715).</summary>
    public bool CountUserRequests { get; set; } = true;
    /// <summary>Gets or sets how many requests one member may make to one tenant per minute, across all instances (sliding window, ADR 0110);
    /// beyond it 429 rate_limited with Retry-After (Usage:UserRequestsPerMinute; 0 turns the limit off; ADR 0715).</summary>
    [Range(0, 1_000_000)]
    public int UserRequestsPerMinute { get; set; } = 1200;
}
