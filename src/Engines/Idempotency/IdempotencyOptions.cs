using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Idempotency;

/// <summary>Holds the Idempotency-Key settings (section "Idempotency").</summary>
public sealed class IdempotencyOptions
{
    /// <summary>Gets or sets how long an Idempotency-Key is kept after its first request before the retention job purges it, in hours
    /// (Idempotency:RetentionHours; at least 24).</summary>
    [Range(24, 8760)]
    public int RetentionHours { get; set; } = 24;

    /// <summary>Gets or sets how long a claimed Idempotency-Key stays in flight before another request with the same key and body may take it
    /// over, in seconds (Idempotency:LeaseSeconds; at least 1).</summary>
    /// <remarks>It must exceed the longest a create or charge request can take: a request still running after it may run twice (ADR 0190).</remarks>
    [Range(1, 86_400)]
    public int LeaseSeconds { get; set; } = 300;

    /// <summary>Gets <see cref="RetentionHours"/> as a time span.</summary>
    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);

    /// <summary>Gets <see cref="LeaseSeconds"/> as a time span.</summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
}
