using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Runs;

namespace Platform.Drivers.Runs;

/// <summary>Admits, records, completes and times out worker runs, and keeps the tenant's run counters.</summary>
public interface IRunDriver
{
    /// <summary>Reads the tenant's run counters as they are now (the sums of its stripes, ADR 0750), with the lazy resets applied to the values read (not written).</summary>
    Task<RunCounters?> FetchRunCountersAsync(IDbSession session, Guid tenantId, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken);

    /// <summary>Inserts an admitted run in the running state; the attempt is one more than the parent's (1 without a parent). Returns null when the parent run does not exist.</summary>
    Task<RunSnapshot?> InsertRunAsync(IDbSession session, NewRun run, CancellationToken cancellationToken);

    /// <summary>Records the per-run token budget the worker config gave the run at admission and returns the run.</summary>
    Task<RunSnapshot> SetTokenBudgetAsync(IDbSession session, Guid tenantId, Guid runId, int maxTokensPerRun, CancellationToken cancellationToken);

    /// <summary>Fetches one run, or null.</summary>
    Task<RunSnapshot?> FetchRunAsync(IDbSession session, Guid tenantId, Guid runId, CancellationToken cancellationToken);

    /// <summary>Lists runs newest first (by id) after a cursor id, filtered by status and worker, at most limit rows.</summary>
    Task<IReadOnlyList<RunSnapshot>> ListRunsAsync(IDbSession session, Guid tenantId, RunFilter filter, Guid? before, int limit, CancellationToken cancellationToken);

    /// <summary>Records the outcome of a run that is still running and returns it, or null when it is not running (any more).</summary>
    Task<RunSnapshot?> CompleteRunAsync(IDbSession session, Guid tenantId, Guid runId, RunOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Lists, across tenants, the tenants with runs running since before a time (the timeout job's one cross-tenant path).</summary>
    Task<IReadOnlyList<Guid>> ListTenantsWithStaleRunsAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>Claims (FOR UPDATE SKIP LOCKED) and fails the tenant's runs running since before a time, and returns them.</summary>
    Task<IReadOnlyList<RunSnapshot>> TimeOutStaleRunsAsync(IDbSession session, Guid tenantId, DateTimeOffset before, int limit, string error, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class RunDriver : IRunDriver
{
    private const string RunColumns =
        """
        r.tenant_id, r.id, r.worker_id, r.task, r.input::text AS input, r.status, r.parent_run_id, r.attempt,
        r.actor_type, r.actor_id, r.api_key_id, r.max_tokens_per_run, r.output::text AS output, r.error,
        r.total_tokens, r.latency_ms, r.cost_cents, r.stages::text AS stages, r.recoveries,
        r.policy_violations::text AS policy_violations, r.started_at, r.completed_at, r.worker_version
        """;

    private const string CounterColumns =
        """
        t.status, t.runs_today, t.max_runs_per_day, t.active_runs, t.max_concurrent_runs,
        t.tokens_this_month, t.max_tokens_per_month, t.last_run_reset_at
        """;

    // The lazy resets: a counter read from a row last reset before the current UTC day (or month) counts as zero.
    private const string TokensThisMonthNow = "(CASE WHEN t.last_run_reset_at < @monthStart THEN 0 ELSE t.tokens_this_month END)";

    public async Task<RunCounters?> FetchRunCountersAsync(IDbSession session, Guid tenantId, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            SELECT t.status, (CASE WHEN s.last_run_reset_at < @dayStart THEN 0 ELSE s.runs_today END) AS runs_today, t.max_runs_per_day,
                   s.active_runs, t.max_concurrent_runs, {TokensThisMonthNow} AS tokens_this_month, t.max_tokens_per_month, t.last_run_reset_at
            FROM tenants t CROSS JOIN run_stripe_totals(t.id, 'tenant') s WHERE t.id = @tenantId
            """,
            new { tenantId, dayStart, monthStart }, (CounterRow r) => r.ToCounters(), cancellationToken);
    }

    public async Task<RunSnapshot?> InsertRunAsync(IDbSession session, NewRun run, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            INSERT INTO runs AS r (tenant_id, id, worker_id, task, input, status, parent_run_id, attempt,
                                   actor_type, actor_id, api_key_id, max_tokens_per_run, started_at, worker_version)
            SELECT @TenantId, @Id, @WorkerId, @Task, @Input::jsonb, 'running', @ParentRunId,
                   coalesce((SELECT p.attempt + 1 FROM runs p WHERE p.tenant_id = @TenantId AND p.id = @ParentRunId), 1),
                   @ActorType, @ActorId, @ApiKeyId, @MaxTokensPerRun, @StartedAt, @WorkerVersion
            WHERE @ParentRunId::uuid IS NULL
               OR EXISTS (SELECT 1 FROM runs p WHERE p.tenant_id = @TenantId AND p.id = @ParentRunId)
            RETURNING {RunColumns}
            """,
            run, (RunRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<RunSnapshot> SetTokenBudgetAsync(IDbSession session, Guid tenantId, Guid runId, int maxTokensPerRun, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<RunRow>(
            $"UPDATE runs AS r SET max_tokens_per_run = @maxTokensPerRun WHERE r.tenant_id = @tenantId AND r.id = @runId RETURNING {RunColumns}",
            new { tenantId, runId, maxTokensPerRun }, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<RunSnapshot?> FetchRunAsync(IDbSession session, Guid tenantId, Guid runId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {RunColumns} FROM runs r WHERE r.tenant_id = @tenantId AND r.id = @runId", new { tenantId, runId }, (RunRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<RunSnapshot>> ListRunsAsync(IDbSession session, Guid tenantId, RunFilter filter, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {RunColumns} FROM runs r
            WHERE r.tenant_id = @tenantId
              AND (@before::uuid IS NULL OR r.id < @before)
              AND (@status::text IS NULL OR r.status = @status)
              AND (@workerId::text IS NULL OR r.worker_id = @workerId)
            ORDER BY r.id DESC
            LIMIT @limit
            """,
            new { tenantId, before, status = filter.Status?.ToWire(), workerId = filter.WorkerId, limit }, (RunRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<RunSnapshot?> CompleteRunAsync(IDbSession session, Guid tenantId, Guid runId, RunOutcome outcome, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE runs AS r SET
                status = @status, output = @Output::jsonb, error = @Error, total_tokens = @TotalTokens,
                latency_ms = @LatencyMs, cost_cents = @CostCents, stages = @Stages::jsonb, recoveries = @Recoveries,
                policy_violations = @PolicyViolations::jsonb, completed_at = @CompletedAt
            WHERE r.tenant_id = @tenantId AND r.id = @runId AND r.status = 'running'
            RETURNING {RunColumns}
            """,
            new
            {
                tenantId, runId, status = (outcome.Success ? RunStatus.Succeeded : RunStatus.Failed).ToWire(),
                outcome.Output, outcome.Error, outcome.TotalTokens, outcome.LatencyMs, outcome.CostCents, outcome.Stages,
                outcome.Recoveries, outcome.PolicyViolations, outcome.CompletedAt,
            },
            (RunRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsWithStaleRunsAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT tenants_with_stale_runs FROM tenants_with_stale_runs(@before, @limit)", new { before, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<IReadOnlyList<RunSnapshot>> TimeOutStaleRunsAsync(IDbSession session, Guid tenantId, DateTimeOffset before, int limit, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<RunRow>(
            $"""
            WITH claimed AS (
                SELECT c.id FROM runs c
                WHERE c.tenant_id = @tenantId AND c.status = 'running' AND c.started_at < @before
                ORDER BY c.started_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED
            )
            UPDATE runs AS r SET status = 'timed_out', error = @error, completed_at = @now, cost_cents = 0
            FROM claimed
            WHERE r.tenant_id = @tenantId AND r.id = claimed.id AND r.status = 'running'
            RETURNING {RunColumns}
            """,
            new { tenantId, before, limit, error, now }, cancellationToken);
        return rows.ToList().ConvertAll(r => r.ToSnapshot());
    }

    private sealed class CounterRow
    {
        public string Status { get; init; } = "";
        public int RunsToday { get; init; }
        public int MaxRunsPerDay { get; init; }
        public int ActiveRuns { get; init; }
        public int MaxConcurrentRuns { get; init; }
        public long TokensThisMonth { get; init; }
        public long MaxTokensPerMonth { get; init; }
        public DateTime LastRunResetAt { get; init; }

        public RunCounters ToCounters() => new(
            Status, RunsToday, MaxRunsPerDay, ActiveRuns, MaxConcurrentRuns, TokensThisMonth, MaxTokensPerMonth, LastRunResetAt.ToUtcOffset());
    }

    private sealed class RunRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string WorkerId { get; init; } = "";
        public string Task { get; init; } = "";
        public string? Input { get; init; }
        public string Status { get; init; } = "";
        public Guid? ParentRunId { get; init; }
        public int Attempt { get; init; }
        public string ActorType { get; init; } = "";
        public Guid? ActorId { get; init; }
        public Guid? ApiKeyId { get; init; }
        public int? MaxTokensPerRun { get; init; }
        public string? Output { get; init; }
        public string? Error { get; init; }
        public long? TotalTokens { get; init; }
        public long? LatencyMs { get; init; }
        public long? CostCents { get; init; }
        public string? Stages { get; init; }
        public int? Recoveries { get; init; }
        public string? PolicyViolations { get; init; }
        public DateTime StartedAt { get; init; }
        public DateTime? CompletedAt { get; init; }
        public string? WorkerVersion { get; init; }

        public RunSnapshot ToSnapshot() => new(
            TenantId, Id, WorkerId, Task, Input, WireNames.Parse<RunStatus>(Status), ParentRunId, Attempt, ActorType, ActorId, ApiKeyId,
            MaxTokensPerRun, Output, Error, TotalTokens, LatencyMs, CostCents, Stages, Recoveries, PolicyViolations,
            StartedAt.ToUtcOffset(), CompletedAt.ToUtcOffset(), WorkerVersion);
    }
}
