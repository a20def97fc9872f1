using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Models.Runs;
using Platform.Models.Usage;

namespace Platform.Api.Runs;

// Request fields are nullable so that a missing one reaches validation and is named there; optional ones default to null.

public sealed record WorkerConfigRequest(bool? Enabled = null, JsonElement? Config = null, int? MaxRunsPerDay = null, int? MaxTokensPerRun = null);

public sealed record CreateRunRequest(string? WorkerId, string? Task, JsonElement? Input = null, Guid? ParentRunId = null);

public sealed record CompleteRunRequest(
    bool? Success, long? TotalTokens, long? LatencyMs, JsonElement? Output = null, string? Error = null, JsonElement? Stages = null,
    int? Recoveries = null, JsonElement? PolicyViolations = null);

/// <summary>Is the wire form of a registry worker; prices in integer cents.</summary>
public sealed record WorkerResponse(
    string Id, string Name, string Description, long BaseCentsPerRun,
    [property: JsonPropertyName("cents_per_1k_tokens")] long CentsPer1kTokens, bool UsesCredits, long CreditsPerRun, string Currency,
    string Version, WorkerStatus Status, JsonElement DefaultConfig, JsonElement? InputSchema, JsonElement? OutputSchema, int? TokensPerRunEstimate)
{
    public static WorkerResponse From(WorkerSnapshot w) =>
        new(w.Id, w.Name, w.Description, w.BaseCentsPerRun, w.CentsPer1kTokens, w.UsesCredits, w.CreditsPerRun, "usd",
            w.Version, w.Status, ParseJson(w.DefaultConfig)!.Value, ParseJson(w.InputSchema), ParseJson(w.OutputSchema), w.TokensPerRunEstimate);

    internal static JsonElement? ParseJson(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
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
    Guid Id, Guid TenantId, string WorkerId, string Task, JsonElement? Input, RunStatus Status, Guid? ParentRunId, int Attempt,
    ActorResponse CreatedBy, Guid? ApiKeyId, int? MaxTokensPerRun, JsonElement? Output, string? Error, long? TotalTokens,
    long? LatencyMs, long? CostCents, string Currency, JsonElement? Stages, int? Recoveries, JsonElement? PolicyViolations,
    DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, string? WorkerVersion)
{
    public static RunResponse From(RunSnapshot r) => new(
        r.Id, r.TenantId, r.WorkerId, r.Task, Parse(r.Input), r.Status, r.ParentRunId, r.Attempt,
        new ActorResponse(r.ActorType, r.ActorId), r.ApiKeyId, r.MaxTokensPerRun, Parse(r.Output), r.Error, r.TotalTokens,
        r.LatencyMs, r.CostCents, "usd", Parse(r.Stages), r.Recoveries, Parse(r.PolicyViolations), r.StartedAt, r.CompletedAt, r.WorkerVersion);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
