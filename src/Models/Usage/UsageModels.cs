namespace Platform.Models.Usage;

/// <summary>Holds one usage event as sent: a meter, a non-negative exact amount in the meter's unit (at most the meter's decimals), a key unique per tenant forever, and when it happened (UTC).</summary>
public sealed record UsageEvent(string Meter, decimal Amount, string IdempotencyKey, DateTimeOffset OccurredAt);

/// <summary>Counts the events of one batch that were stored and those whose key had been seen before.</summary>
public sealed record UsageBatchResult(int Accepted, int Duplicates);

/// <summary>Holds how one write changed a meter's monthly (UTC) rollup: its total before and after, as the write itself saw them under the row lock,
/// and whether the tenant's policy of the meter is hard (usage beyond the quota refused).</summary>
public sealed record RollupChange(string Meter, DateOnly PeriodStart, decimal Before, decimal After, bool Hard = false);

/// <summary>Names a meter's policy: hard refuses usage beyond the effective quota (429, nothing written), soft allows it, alerts and bills the overage.</summary>
public enum MeterPolicy
{
    Soft,
    Hard,
}

/// <summary>Holds what a batch of usage events did: how many were inserted and how each rollup they touched changed.</summary>
public sealed record UsageInsertResult(int Inserted, IReadOnlyList<RollupChange> Rollups);

/// <summary>Holds one monthly (UTC) rollup of a meter.</summary>
public sealed record UsageRollup(string Meter, DateOnly PeriodStart, decimal Used);

/// <summary>Holds the current period's use of one meter: used, the plan's quota (null when none, -1 unlimited), the percentage used and the reset time.</summary>
public sealed record MeterUsage(string Meter, decimal Used, long? Quota, decimal? Percentage, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt);

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

/// <summary>Gives each meter's precision: how many decimals an amount may have (0 = whole numbers only), and the largest amount one event may carry.</summary>
/// <remarks>Counted meters (api_calls, tokens, runs) are whole numbers; gpu_hours has 4 decimals (a 0.36 s slice of an hour), storage_gb 3 (one MB);
/// any other meter a tenant reports has 6 (ADR 0560).</remarks>
public static class MeterPrecision
{
    /// <summary>Is the precision of a meter without its own entry.</summary>
    public const int Default = 6;

    /// <summary>Is the largest amount of one event (10^15 units): a batch of 1,000 such events and a rollup of many batches stay far inside decimal's 28 digits.</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000m;

    public static int Of(string meter) => meter switch
    {
        Meters.ApiCalls or Meters.Tokens or Meters.Runs => 0,
        Meters.GpuHours => 4,
        Meters.StorageGb => 3,
        _ => Default,
    };

    /// <summary>Counts the decimals an amount carries once trailing zeros are dropped (2.50 has 1).</summary>
    public static int DecimalsOf(decimal amount) => Normalize(amount).Scale;

    /// <summary>Drops trailing zeros (2.500 becomes 2.5, 3.0 becomes 3), so that an amount is shown and compared as the number it is.</summary>
    public static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;
}
