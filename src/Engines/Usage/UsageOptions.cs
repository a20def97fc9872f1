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
}
