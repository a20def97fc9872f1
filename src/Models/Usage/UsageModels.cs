namespace Platform.Models.Usage;

/// <summary>Holds one usage event as sent: a meter, a non-negative amount in the meter's unit, a key unique per tenant forever, and when it happened (UTC).</summary>
public sealed record UsageEvent(string Meter, long Amount, string IdempotencyKey, DateTimeOffset OccurredAt);

/// <summary>Counts the events of one batch that were stored and those whose key had been seen before.</summary>
public sealed record UsageBatchResult(int Accepted, int Duplicates);

/// <summary>Holds how one write changed a meter's monthly (UTC) rollup: its total before and after, as the write itself saw them under the row lock.</summary>
public sealed record RollupChange(string Meter, DateOnly PeriodStart, long Before, long After);

/// <summary>Holds what a batch of usage events did: how many were inserted and how each rollup they touched changed.</summary>
public sealed record UsageInsertResult(int Inserted, IReadOnlyList<RollupChange> Rollups);

/// <summary>Holds one monthly (UTC) rollup of a meter.</summary>
public sealed record UsageRollup(string Meter, DateOnly PeriodStart, long Used);

/// <summary>Holds the current period's use of one meter: used, the plan's quota (null when none, -1 unlimited), the percentage used and the reset time.</summary>
public sealed record MeterUsage(string Meter, long Used, long? Quota, decimal? Percentage, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt);

/// <summary>Holds the current period's usage of a tenant, one entry per meter.</summary>
public sealed record UsageSummary(DateTimeOffset PeriodStart, DateTimeOffset ResetsAt, IReadOnlyList<MeterUsage> Meters);

/// <summary>Names the meters the platform itself records and gives the UTC periods they roll up in.</summary>
public static class Meters
{
    public const string Tokens = "tokens";
    public const string Runs = "runs";
    public const string ApiCalls = "api_calls";
    public const string StorageGb = "storage_gb";
    public const string GpuHours = "gpu_hours";

    public static DateTimeOffset MonthStart(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public static DateTimeOffset NextMonthStart(DateTimeOffset at) => MonthStart(at).AddMonths(1);

    public static DateTimeOffset DayStart(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
    }

    public static DateTimeOffset NextDayStart(DateTimeOffset at) => DayStart(at).AddDays(1);
}
