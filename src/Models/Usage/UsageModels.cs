using Platform.Models.Errors;

namespace Platform.Models.Usage;

/// <summary>Holds one usage event as sent: a meter, a non-negative exact amount in the meter's unit (at most the meter's decimals), a key unique per tenant forever,
/// when it happened (UTC), an optional small JSON object of metadata (its text), the worker it is attributed to and the API key that sent it.</summary>
public sealed record UsageEvent(string Meter, decimal Amount, string IdempotencyKey, DateTimeOffset OccurredAt, string? Metadata = null,
    string? WorkerId = null, Guid? ApiKeyId = null);

/// <summary>Holds one stored raw usage event as listed: the event as sent with its attribution, and when it was recorded.</summary>
public sealed record StoredUsageEvent(string IdempotencyKey, string Meter, decimal Amount, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt,
    string? WorkerId, Guid? ApiKeyId, string? Metadata);

/// <summary>Holds the filters of a raw event listing or an attributed history: meter, [from, to) on occurred_at, worker and API key (null: any).</summary>
public sealed record UsageEventFilter(string? Meter, DateTimeOffset? From, DateTimeOffset? To, string? WorkerId, Guid? ApiKeyId);

/// <summary>Counts the events of one batch that were stored and those whose key had been seen before, and lists those a hard meter refused (ADR 0770).</summary>
public sealed record UsageBatchResult(int Accepted, int Duplicates, IReadOnlyList<RefusedEvent>? Refused = null);

/// <summary>Holds how one write changed a meter's monthly (UTC) rollup: its total before and after, as the write itself saw them under the row lock,
/// and whether the tenant's policy of the meter is hard (usage beyond the quota refused).</summary>
public sealed record RollupChange(string Meter, DateOnly PeriodStart, decimal Before, decimal After, bool Hard = false);

/// <summary>Names a meter's policy: hard refuses usage beyond the effective quota (429, nothing written), soft allows it, alerts and bills the overage.</summary>
public enum MeterPolicy
{
    Soft,
    Hard,
}

/// <summary>Holds what a batch of usage events did: how many were inserted, how each summed rollup they touched changed, and the meters of inserted
/// events whose aggregation is not a sum (their rollups are computed again from the raw events, ADR 0640).</summary>
public sealed record UsageInsertResult(int Inserted, IReadOnlyList<RollupChange> Rollups, IReadOnlyList<string>? AggregatedMeters = null);

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

/// <summary>Gives the precision rules of amounts: each meter's decimals come from the meter catalogue (table meters, ADR 0640: api_calls, tokens and runs
/// whole units, gpu_hours 4, storage_gb 3); a meter the catalogue does not list has <see cref="Default"/> (ADR 0560).</summary>
public static class MeterPrecision
{
    /// <summary>Is the precision of a meter the catalogue does not list.</summary>
    public const int Default = 6;

    /// <summary>Is the largest amount of one event (10^15 units): a batch of 1,000 such events and a rollup of many batches stay far inside decimal's 28 digits.</summary>
    public const decimal MaxAmount = 1_000_000_000_000_000m;

    /// <summary>Counts the decimals an amount carries once trailing zeros are dropped (2.50 has 1).</summary>
    public static int DecimalsOf(decimal amount) => Normalize(amount).Scale;

    /// <summary>Drops trailing zeros (2.500 becomes 2.5, 3.0 becomes 3), so that an amount is shown and compared as the number it is.</summary>
    public static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;
}
