using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Webhooks;

/// <summary>Holds the outbound webhooks' settings (section "Webhooks").</summary>
public sealed class WebhooksOptions
{
    /// <summary>Gets or sets whether endpoints may be http:// URLs on loopback and deliveries may connect to loopback addresses (Webhooks:AllowLoopback);
    /// off by default, on in the embedded install of <c>./platform run</c> so a developer can receive on localhost.</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Gets or sets how long, in hours, the former secret keeps signing after a rotation (Webhooks:SecretRotationGraceHours).</summary>
    [Range(0, 720)]
    public int SecretRotationGraceHours { get; set; } = 24;

    /// <summary>Gets or sets the timeout of one delivery attempt, in seconds (Webhooks:TimeoutSeconds).</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>Gets or sets the delays before each attempt, in seconds, comma-separated; the first is the first attempt's (Webhooks:RetrySchedule).
    /// Each delay gets up to 10 % jitter. After the last attempt the delivery has failed.</summary>
    [Required]
    public string RetrySchedule { get; set; } = "0,5,300,1800,7200,18000,36000,36000";

    /// <summary>Gets or sets after how many days of nothing but failed attempts an endpoint is disabled (Webhooks:DisableAfterDays).</summary>
    [Range(1, 90)]
    public int DisableAfterDays { get; set; } = 5;

    /// <summary>Gets or sets how many days attempts and finished deliveries are kept before the retention job purges them (Webhooks:LogRetentionDays).</summary>
    [Range(1, 3650)]
    public int LogRetentionDays { get; set; } = 30;

    /// <summary>Gets or sets the credit balance at or below which credits.low is sent (Webhooks:CreditsLowThreshold).</summary>
    [Range(0, long.MaxValue)]
    public long CreditsLowThreshold { get; set; } = 10;

    /// <summary>Gets or sets how often an idle dispatcher looks for due deliveries, in milliseconds (Webhooks:PollIntervalMilliseconds).</summary>
    [Range(10, 60_000)]
    public int PollIntervalMilliseconds { get; set; } = 250;

    /// <summary>Gets or sets how many deliveries one dispatcher process leases in one claim and records in one flush at most (Webhooks:BatchSize, ADR 0760).</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Gets or sets how many deliveries one dispatcher process has leased and in flight at once (Webhooks:MaxConcurrency): its pipeline's
    /// slots; a slot is free again when its attempt is recorded (ADR 0760). Requests share at most MaxConnectionsPerHost connections per host (ADR 0790).</summary>
    [Range(1, 4000)]
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>Gets or sets how many requests one dispatcher process has in flight to one endpoint at most (Webhooks:MaxInFlightPerEndpoint); the
    /// rest wait for a turn within the attempt's timeout (ADR 0700, default of ADR 0760).</summary>
    [Range(1, 1000)]
    public int MaxInFlightPerEndpoint { get; set; } = 32;

    /// <summary>Gets or sets how many connections one dispatcher process keeps to one host and port at most (Webhooks:MaxConnectionsPerHost, ADR 0790):
    /// endpoints on the same receiver share them, and requests beyond them wait for a free one within the attempt's timeout. Connections are kept
    /// alive and reused, and dialled at most 8 at a time per host (a burst of hundreds of dials overflowed a receiver's accept queue).</summary>
    [Range(1, 1000)]
    public int MaxConnectionsPerHost { get; set; } = 256;

    /// <summary>Gets or sets how long, in milliseconds, a dispatcher gathers before a claim after the previous one and before recording finished
    /// attempts (Webhooks:LingerMilliseconds): a burst of commits or answers becomes one statement (ADR 0760).</summary>
    [Range(0, 1000)]
    public int LingerMilliseconds { get; set; } = 25;

    /// <summary>Gets the retry schedule as delays; the first element is the delay of the first attempt.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays => ParseSchedule(RetrySchedule) ?? [];

    /// <summary>Tells whether RetrySchedule reads as 1-20 delays (checked at start).</summary>
    public bool HasValidSchedule => ParseSchedule(RetrySchedule) is { Count: > 0 };

    private static List<TimeSpan>? ParseSchedule(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 20)
        {
            return null;
        }
        var delays = new List<TimeSpan>(parts.Length);
        foreach (var part in parts)
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds > 604_800)
            {
                return null;
            }
            delays.Add(TimeSpan.FromSeconds(seconds));
        }
        return delays;
    }
}
