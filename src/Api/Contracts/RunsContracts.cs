using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Models.Runs;
using Platform.Models.Usage;

namespace Platform.Api.Contracts;

// Every request field is nullable so that a missing field reaches validation and is named there.

public sealed record WorkerConfigRequest(bool? Enabled, JsonElement? Config, int? MaxRunsPerDay, int? MaxTokensPerRun);

public sealed record CreateRunRequest(string? WorkerId, string? Task, JsonElement? Input, Guid? ParentRunId);

public sealed record CompleteRunRequest(
    bool? Success, JsonElement? Output, string? Error, long? TotalTokens, long? LatencyMs, JsonElement? Stages, int? Recoveries,
    JsonElement? PolicyViolations);

public sealed record UsageEventRequest(string? Meter, long? Amount, string? IdempotencyKey, DateTimeOffset? OccurredAt);

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

/// <summary>Is the wire form of a registry worker; prices in integer cents.</summary>
public sealed record WorkerResponse(
    string Id, string Name, string Description, long BaseCentsPerRun,
    [property: JsonPropertyName("cents_per_1k_tokens")] long CentsPer1kTokens, bool UsesCredits, long CreditsPerRun, string Currency)
{
    public static WorkerResponse From(WorkerSnapshot w) =>
        new(w.Id, w.Name, w.Description, w.BaseCentsPerRun, w.CentsPer1kTokens, w.UsesCredits, w.CreditsPerRun, "usd");
}

/// <summary>Is the wire form of a tenant's worker config; null limits mean no per-worker limit.</summary>
public sealed record WorkerConfigResponse(
    string WorkerId, bool Enabled, JsonElement Config, int? MaxRunsPerDay, int? MaxTokensPerRun, int RunsToday, DateTimeOffset? UpdatedAt)
{
    public static WorkerConfigResponse From(WorkerConfigSnapshot c, DateTimeOffset now) => new(
        c.WorkerId, c.Enabled, JsonDocument.Parse(c.Config).RootElement.Clone(), c.MaxRunsPerDay, c.MaxTokensPerRun,
        c.LastRunResetAt is { } reset && reset >= Meters.DayStart(now) ? c.RunsToday : 0, c.UpdatedAt);
}

/// <summary>Is the wire form of the actor that created a run.</summary>
public sealed record ActorResponse(string Type, Guid? Id);

/// <summary>Is the wire form of a run; tokens, latency in milliseconds, cost in integer cents.</summary>
public sealed record RunResponse(
    Guid Id, Guid TenantId, string WorkerId, string Task, JsonElement? Input, string Status, Guid? ParentRunId, int Attempt,
    ActorResponse CreatedBy, Guid? ApiKeyId, int? MaxTokensPerRun, JsonElement? Output, string? Error, long? TotalTokens,
    long? LatencyMs, long? CostCents, string Currency, JsonElement? Stages, int? Recoveries, JsonElement? PolicyViolations,
    DateTimeOffset StartedAt, DateTimeOffset? CompletedAt)
{
    public static RunResponse From(RunSnapshot r) => new(
        r.Id, r.TenantId, r.WorkerId, r.Task, Parse(r.Input), r.Status.ToWire(), r.ParentRunId, r.Attempt,
        new ActorResponse(r.ActorType, r.ActorId), r.ApiKeyId, r.MaxTokensPerRun, Parse(r.Output), r.Error, r.TotalTokens,
        r.LatencyMs, r.CostCents, "usd", Parse(r.Stages), r.Recoveries, Parse(r.PolicyViolations), r.StartedAt, r.CompletedAt);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}

public sealed record UsageBatchResponse(int Received, int Accepted, int Duplicates);

/// <summary>Is the wire form of one meter's current period: used, quota (null: none, -1: unlimited), percentage and reset time.</summary>
public sealed record MeterUsageResponse(string Meter, long Used, long? Quota, decimal? Percentage, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt)
{
    public static MeterUsageResponse From(MeterUsage m) => new(m.Meter, m.Used, m.Quota, m.Percentage, m.PeriodStart, m.ResetsAt);
}

/// <summary>Is the wire form of the current period's usage.</summary>
public sealed record UsageSummaryResponse(DateTimeOffset PeriodStart, DateTimeOffset ResetsAt, IReadOnlyList<MeterUsageResponse> Meters)
{
    public static UsageSummaryResponse From(UsageSummary s) => new(s.PeriodStart, s.ResetsAt, s.Meters.Select(MeterUsageResponse.From).ToList());
}

/// <summary>Is the wire form of one monthly rollup.</summary>
public sealed record UsagePeriodResponse(string Meter, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, long Used)
{
    public static UsagePeriodResponse From(UsageRollup r)
    {
        var start = new DateTimeOffset(r.PeriodStart.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return new(r.Meter, start, start.AddMonths(1), r.Used);
    }
}
