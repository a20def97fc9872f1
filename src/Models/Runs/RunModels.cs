namespace Platform.Models.Runs;

/// <summary>Describes where a run is: running until completed, failed or timed out.</summary>
[WireEnum]
public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    TimedOut,
}

/// <summary>Holds one worker run as read in one transaction; tokens, latency in milliseconds, cost in cents.</summary>
public sealed record RunSnapshot(
    Guid TenantId,
    Guid Id,
    string WorkerId,
    string Task,
    string? Input,
    RunStatus Status,
    Guid? ParentRunId,
    int Attempt,
    string ActorType,
    Guid? ActorId,
    Guid? ApiKeyId,
    int? MaxTokensPerRun,
    string? Output,
    string? Error,
    long? TotalTokens,
    long? LatencyMs,
    long? CostCents,
    string? Stages,
    int? Recoveries,
    string? PolicyViolations,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    string? WorkerVersion = null);

/// <summary>Holds the fields of a run being admitted.</summary>
public sealed record NewRun(
    Guid TenantId,
    Guid Id,
    string WorkerId,
    string Task,
    string? Input,
    Guid? ParentRunId,
    string ActorType,
    Guid? ActorId,
    Guid? ApiKeyId,
    int? MaxTokensPerRun,
    DateTimeOffset StartedAt,
    string? WorkerVersion = null);

/// <summary>Holds a run's outcome as its worker reported it; tokens, latency in milliseconds, cost in cents; JSON fields as text.</summary>
public sealed record RunOutcome(
    bool Success,
    string? Output,
    string? Error,
    long TotalTokens,
    long LatencyMs,
    long CostCents,
    string? Stages,
    int? Recoveries,
    string? PolicyViolations,
    DateTimeOffset CompletedAt);

/// <summary>Holds a tenant's run counters right after an admission or a refusal (-1 limits mean unlimited).</summary>
public sealed record RunCounters(
    string Status,
    int RunsToday,
    int MaxRunsPerDay,
    int ActiveRuns,
    int MaxConcurrentRuns,
    long TokensThisMonth,
    long MaxTokensPerMonth,
    DateTimeOffset LastRunResetAt);

/// <summary>Holds the filters of a run list.</summary>
public sealed record RunFilter(RunStatus? Status, string? WorkerId);

/// <summary>Says which counters one admission statement moved: the worker config (with its per-run token budget), the API key's slot (true when no key) and the tenant's slot; the run is admitted only when all three did.
/// WorkerMissing: the tenant has no config of the worker yet, nothing was counted, and the service must enable it within max_workers first (ADR 0771).</summary>
public sealed record RunAdmission(bool WorkerCounted, int? MaxTokensPerRun, bool KeyReserved, bool TenantReserved, bool WorkerMissing = false)
{
    public bool Admitted => WorkerCounted && KeyReserved && TenantReserved;
}
