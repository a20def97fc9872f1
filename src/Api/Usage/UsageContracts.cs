using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Models.Usage;
using Platform.Models.Errors;

namespace Platform.Api.Usage;

// Request fields are nullable so that a missing one reaches validation and is named there; optional ones default to null.

public sealed record UsageEventRequest(string? Meter, decimal? Amount, string? IdempotencyKey = null, DateTimeOffset? OccurredAt = null, JsonElement? Metadata = null,
    string? WorkerId = null, Guid? ReservationId = null);

/// <summary>Is the wire form of one stored raw usage event with its attribution (api_key_id: the key that sent it, null for users).</summary>
public sealed record UsageEventResponse(string IdempotencyKey, string Meter, decimal Amount, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt,
    string? WorkerId, Guid? ApiKeyId, JsonElement? Metadata)
{
    public static UsageEventResponse From(StoredUsageEvent e) => new(e.IdempotencyKey, e.Meter, e.Amount, e.OccurredAt, e.RecordedAt, e.WorkerId, e.ApiKeyId,
        e.Metadata is null ? null : JsonDocument.Parse(e.Metadata).RootElement.Clone());
}

/// <summary>Is a usage ingestion body: a bare array of events or an object {"events": [...]}; Events is null for any other shape.</summary>
[JsonConverter(typeof(UsageEventBatchConverter))]
public sealed record UsageEventBatch(List<UsageEventRequest?>? Events);

/// <summary>Reads either shape of <see cref="UsageEventBatch"/> straight from the reader; other members of the object are skipped.</summary>
public sealed class UsageEventBatchConverter : JsonConverter<UsageEventBatch>
{
    public override UsageEventBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            return new UsageEventBatch(JsonSerializer.Deserialize<List<UsageEventRequest?>>(ref reader, options));
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return new UsageEventBatch(null);
        }
        List<UsageEventRequest?>? events = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEvents = reader.ValueTextEquals("events"u8);
            reader.Read();
            if (isEvents && reader.TokenType == JsonTokenType.StartArray)
            {
                events = JsonSerializer.Deserialize<List<UsageEventRequest?>>(ref reader, options);
            }
            else
            {
                reader.Skip();
            }
        }
        return new UsageEventBatch(events);
    }

    public override void Write(Utf8JsonWriter writer, UsageEventBatch value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.Events, options);
}

/// <summary>Is the wire form of an ingested batch: how many events were received, stored, already stored (duplicates) and the events a hard meter
/// refused (ADR 0770), each with its index as sent, meter, reason and the meter's limit, use and remainder at the refusal.</summary>
public sealed record UsageBatchResponse(int Received, int Accepted, int Duplicates, IReadOnlyList<RefusedEventResponse> Refused);

/// <summary>Is the wire form of one event a hard meter refused: index as sent, meter, reason (quota_exceeded), the limit, the month's use before it and
/// what remained after the use and the active reservations.</summary>
public sealed record RefusedEventResponse(int Index, string Meter, string Reason, long? Limit, decimal? Used, decimal? Remaining)
{
    public static RefusedEventResponse From(RefusedEvent e) => new(e.Index, e.Meter, e.Reason, e.Limit, e.Used, e.Remaining);
}

/// <summary>Is the wire form of one meter's current period: used, quota (null: none, -1: unlimited), percentage and reset time.</summary>
public sealed record MeterUsageResponse(string Meter, decimal Used, long? Quota, decimal? Percentage, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt)
{
    public static MeterUsageResponse From(MeterUsage m) => new(m.Meter, m.Used, m.Quota, m.Percentage, m.PeriodStart, m.ResetsAt);
}

/// <summary>Is the wire form of the current period's usage.</summary>
public sealed record UsageSummaryResponse(DateTimeOffset PeriodStart, DateTimeOffset ResetsAt, IReadOnlyList<MeterUsageResponse> Meters)
{
    public static UsageSummaryResponse From(UsageSummary s) => new(s.PeriodStart, s.ResetsAt, s.Meters.Select(MeterUsageResponse.From).ToList());
}

/// <summary>Is the wire form of one monthly rollup, or of one day's value (period_end the next day).</summary>
public sealed record UsagePeriodResponse(string Meter, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, decimal Used)
{
    public static UsagePeriodResponse From(UsageRollup r)
    {
        var start = new DateTimeOffset(r.PeriodStart.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return new(r.Meter, start, start.AddMonths(1), r.Used);
    }

    public static UsagePeriodResponse FromDay(UsageRollup r)
    {
        var start = new DateTimeOffset(r.PeriodStart.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return new(r.Meter, start, start.AddDays(1), r.Used);
    }
}

/// <summary>Is the body of a quota check: a meter and the amount about to be spent.</summary>
public sealed record UsageCheckRequest(string? Meter, decimal? Amount);

/// <summary>Is the answer of an allowed quota check: the month's use, the quota (null: none, -1: unlimited) and what remains (null without a finite quota).</summary>
public sealed record UsageCheckResponse(bool Allowed, string Meter, decimal Used, long? Quota, decimal? Remaining, DateTimeOffset ResetsAt)
{
    public static UsageCheckResponse From(MeterUsage m) => new(true, m.Meter, m.Used, m.Quota,
        m.Quota is { } quota and >= 0 ? Math.Max(0m, quota - m.Used) : null, m.ResetsAt);
}

/// <summary>Is the body that sets a meter's policy.</summary>
public sealed record MeterPolicyRequest(MeterPolicy? Policy);

/// <summary>Is a meter's policy as set.</summary>
public sealed record MeterPolicyResponse(string Meter, MeterPolicy Policy);
