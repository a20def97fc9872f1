namespace Platform.Models.Runs;

/// <summary>Describes where a run is: running until completed, failed or timed out.</summary>
public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    TimedOut,
}

/// <summary>Converts run statuses to and from their snake_case wire and database names.</summary>
public static class RunStatuses
{
    public static string ToWire(this RunStatus status) => status switch
    {
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        RunStatus.TimedOut => "timed_out",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? value, out RunStatus status)
    {
        switch (value)
        {
            case "running": status = RunStatus.Running; return true;
            case "succeeded": status = RunStatus.Succeeded; return true;
            case "failed": status = RunStatus.Failed; return true;
            case "timed_out": status = RunStatus.TimedOut; return true;
            default: status = default; return false;
        }
    }

    public static RunStatus Parse(string value) =>
        TryParse(value, out var status) ? status : throw new FormatException($"Unknown run status '{value}'.");
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
    DateTimeOffset? CompletedAt);

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
    DateTimeOffset StartedAt);

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

/// <summary>Says which counters one admission statement moved: the worker config (with its per-run token budget), the API key's slot (true when no key) and the tenant's slot; the run is admitted only when all three did.</summary>
public sealed record RunAdmission(bool WorkerCounted, int? MaxTokensPerRun, bool KeyReserved, bool TenantReserved)
{
    public bool Admitted => WorkerCounted && KeyReserved && TenantReserved;
}
