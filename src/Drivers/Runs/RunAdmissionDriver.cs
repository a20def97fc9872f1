using Platform.Drivers.Sessions;
using Platform.Models.Runs;

namespace Platform.Drivers.Runs;

/// <summary>Moves every admission counter of a run in one statement (worker config, then the API key, then the tenant) and gives the key and tenant slots back in one statement at completion.</summary>
public interface IRunAdmissionDriver
{
    /// <summary>Counts the run against the worker config (inserted enabled without limits on first use, daily reset lazily), then, only if that held, against the key (live, worker allowed, under its concurrency; skipped without a key), then, only if both held, against the tenant (not suspended, daily, concurrency and monthly tokens, resets lazily); says which held. Refusals leave rows changed only where a step held: the caller rolls back.</summary>
    Task<RunAdmission> TryAdmitAsync(IDbSession session, Guid tenantId, string workerId, Guid? keyId, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken);

    /// <summary>Gives back one run slot of the key (when given; never below zero) and then of the tenant, adding the run's tokens to the month (resets lazily).</summary>
    Task ReleaseAsync(IDbSession session, Guid tenantId, Guid? keyId, long tokens, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken);
}

internal sealed class RunAdmissionDriver : IRunAdmissionDriver
{
    // The lazy resets: a counter read from a row last reset before the current UTC day (or month) counts as zero.
    private const string RunsTodayNow = "(CASE WHEN t.last_run_reset_at < @dayStart THEN 0 ELSE t.runs_today END)";
    private const string RunsThisMonthNow = "(CASE WHEN t.last_run_reset_at < @monthStart THEN 0 ELSE t.runs_this_month END)";
    private const string TokensThisMonthNow = "(CASE WHEN t.last_run_reset_at < @monthStart THEN 0 ELSE t.tokens_this_month END)";
    private const string ResetAtNow = "(CASE WHEN t.last_run_reset_at < @dayStart THEN @now ELSE t.last_run_reset_at END)";

    // Each step's WHERE names the step before it through an uncorrelated EXISTS, which PostgreSQL runs first (an
    // InitPlan): the rows are locked in the order worker config -> key -> tenant (ADR 0150/0360), and a step that did
    // not hold stops the later ones. Under READ COMMITTED each UPDATE that waits for a row lock re-checks its WHERE on
    // the new row version, exactly as the three separate statements did (ADR 0160).
    private const string AdmitSql =
        $$"""
        WITH c AS (
          INSERT INTO worker_configs AS c (tenant_id, worker_id, enabled, config, runs_today, last_run_reset_at, created_at, updated_at)
          VALUES (@tenantId, @workerId, true, '{}'::jsonb, 1, @now, @now, @now)
          ON CONFLICT (tenant_id, worker_id) DO UPDATE SET
            runs_today = (CASE WHEN c.last_run_reset_at < @dayStart THEN 0 ELSE c.runs_today END) + 1,
            last_run_reset_at = CASE WHEN c.last_run_reset_at < @dayStart THEN @now ELSE c.last_run_reset_at END
          WHERE c.enabled AND (c.max_runs_per_day IS NULL
                               OR (CASE WHEN c.last_run_reset_at < @dayStart THEN 0 ELSE c.runs_today END) < c.max_runs_per_day)
          RETURNING c.max_tokens_per_run),
        k AS (
          UPDATE api_keys AS k SET active_runs = k.active_runs + 1
          WHERE k.tenant_id = @tenantId AND k.id = @keyId AND EXISTS (SELECT 1 FROM c)
            AND k.revoked_at IS NULL AND k.frozen_at IS NULL
            AND (k.allowed_workers IS NULL OR @workerId::text = ANY (k.allowed_workers))
            AND (k.max_concurrent_runs IS NULL OR k.active_runs < k.max_concurrent_runs)
          RETURNING k.id),
        t AS (
          UPDATE tenants AS t SET
            runs_today = {{RunsTodayNow}} + 1,
            runs_this_month = {{RunsThisMonthNow}} + 1,
            tokens_this_month = {{TokensThisMonthNow}},
            last_run_reset_at = {{ResetAtNow}},
            active_runs = t.active_runs + 1
          WHERE t.id = @tenantId AND EXISTS (SELECT 1 FROM c) AND (@keyId::uuid IS NULL OR EXISTS (SELECT 1 FROM k))
            AND t.status NOT IN ('suspended', 'deleted')
            AND (t.max_runs_per_day = -1 OR {{RunsTodayNow}} < t.max_runs_per_day)
            AND (t.max_concurrent_runs = -1 OR t.active_runs < t.max_concurrent_runs)
            AND (t.max_tokens_per_month = -1 OR {{TokensThisMonthNow}} < t.max_tokens_per_month)
          RETURNING t.id)
        SELECT EXISTS (SELECT 1 FROM c) AS worker_counted, (SELECT c.max_tokens_per_run FROM c) AS max_tokens_per_run,
               (@keyId::uuid IS NULL OR EXISTS (SELECT 1 FROM k)) AS key_reserved, EXISTS (SELECT 1 FROM t) AS tenant_reserved
        """;

    // The key first, then the tenant (the admission's order): the tenant UPDATE's WHERE reads k, so k runs first.
    private const string ReleaseSql =
        $"""
        WITH k AS (
          UPDATE api_keys AS k SET active_runs = greatest(k.active_runs - 1, 0)
          WHERE k.tenant_id = @tenantId AND k.id = @keyId RETURNING k.id)
        UPDATE tenants AS t SET
          runs_today = {RunsTodayNow},
          runs_this_month = {RunsThisMonthNow},
          tokens_this_month = {TokensThisMonthNow} + @tokens,
          last_run_reset_at = {ResetAtNow},
          active_runs = greatest(t.active_runs - 1, 0)
        WHERE t.id = @tenantId AND (SELECT count(*) FROM k) >= 0
        """;

    public async Task<RunAdmission> TryAdmitAsync(IDbSession session, Guid tenantId, string workerId, Guid? keyId, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<AdmissionRow>(
            AdmitSql, new { tenantId, workerId, keyId, now, dayStart, monthStart }, cancellationToken);
        return new RunAdmission(row.WorkerCounted, row.MaxTokensPerRun, row.KeyReserved, row.TenantReserved);
    }

    public async Task ReleaseAsync(IDbSession session, Guid tenantId, Guid? keyId, long tokens, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            ReleaseSql, new { tenantId, keyId, tokens, now, dayStart, monthStart }, cancellationToken);
    }

    private sealed class AdmissionRow
    {
        public bool WorkerCounted { get; init; }
        public int? MaxTokensPerRun { get; init; }
        public bool KeyReserved { get; init; }
        public bool TenantReserved { get; init; }
    }
}
