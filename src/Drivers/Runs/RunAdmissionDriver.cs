using Platform.Drivers.Sessions;
using Platform.Models.Runs;

namespace Platform.Drivers.Runs;

/// <summary>Counts a run against the worker config, the API key and the tenant on one of 32 stripe rows per scope (run_admission_stripes,
/// ADR 0750), and gives the key's and the tenant's slots back on the same stripe at completion or timeout.</summary>
public interface IRunAdmissionDriver
{
    /// <summary>Counts the run against the worker config (inserted enabled without limits on first use; its daily limit), then, only if that held, against the key (live, worker allowed, under its concurrency; skipped without a key), then, only if both held, against the tenant (not suspended, daily, concurrency and monthly tokens); each on the run's stripe, exactly (run_stripe_take). Says which held; refusals leave counts moved only where a step held: the caller rolls back.</summary>
    Task<RunAdmission> TryAdmitAsync(IDbSession session, Guid tenantId, string workerId, Guid? keyId, Guid runId, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken);

    /// <summary>Gives back the run's slot of the key (when given) and then of the tenant on the run's stripe (never below zero), and adds the run's tokens to the tenant's month (resets lazily).</summary>
    Task ReleaseAsync(IDbSession session, Guid tenantId, Guid? keyId, Guid runId, long tokens, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken);

    /// <summary>Gives back the slots of many runs (the timeout job): every key's stripes first (key id, then stripe order), then the tenant's (stripe order), the order admissions lock in, so that no deadlock is possible with them.</summary>
    Task ReleaseManyAsync(IDbSession session, Guid tenantId, IReadOnlyList<(Guid RunId, Guid? KeyId)> runs, CancellationToken cancellationToken);
}

/// <summary>Names the stripe of a run: the last byte of its id (random in a UUIDv7) modulo 32, as SQL computes it (get_byte(uuid_send(id), 15) % 32).</summary>
public static class RunStripes
{
    /// <summary>Is the number of stripes per scope (run_stripe_take's 32).</summary>
    public const int Count = 32;

    /// <summary>Returns the stripe a run is counted on.</summary>
    public static int Of(Guid runId) => runId.ToByteArray(bigEndian: true)[15] % Count;
}

internal sealed class RunAdmissionDriver : IRunAdmissionDriver
{
    private const string TokensThisMonthNow = "(CASE WHEN t.last_run_reset_at < @monthStart THEN 0 ELSE t.tokens_this_month END)";
    private const string ResetAtNow = "(CASE WHEN t.last_run_reset_at < @dayStart THEN @now ELSE t.last_run_reset_at END)";

    // The key's stripe, then the tenant's (the admission's order), then the tenant row's tokens: each later step's WHERE reads the one before,
    // which makes PostgreSQL run it first.
    private const string ReleaseSql =
        $"""
        WITH k AS (
          UPDATE run_admission_stripes AS s SET active_runs = greatest(s.active_runs - 1, 0)
          WHERE s.tenant_id = @tenantId AND @keyId::uuid IS NOT NULL AND s.scope = 'key:' || @keyId::text AND s.stripe = @stripe RETURNING 1),
        ts AS (
          UPDATE run_admission_stripes AS s SET active_runs = greatest(s.active_runs - 1, 0)
          WHERE s.tenant_id = @tenantId AND s.scope = 'tenant' AND s.stripe = @stripe AND (SELECT count(*) FROM k) >= 0 RETURNING 1)
        UPDATE tenants AS t SET
          tokens_this_month = {TokensThisMonthNow} + @tokens,
          last_run_reset_at = {ResetAtNow}
        WHERE t.id = @tenantId AND (SELECT count(*) FROM ts) >= 0
        """;

    public async Task<RunAdmission> TryAdmitAsync(IDbSession session, Guid tenantId, string workerId, Guid? keyId, Guid runId, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<AdmissionRow>(
            """
            SELECT a.worker_counted, a.max_tokens_per_run, a.key_reserved, a.tenant_reserved, a.worker_missing
            FROM run_admit(@tenantId, @workerId, @keyId, @stripe, @now, @dayStart, @monthStart, false) a
            """,
            new { tenantId, workerId, keyId, stripe = RunStripes.Of(runId), now, dayStart, monthStart }, cancellationToken);
        return new RunAdmission(row.WorkerCounted, row.MaxTokensPerRun, row.KeyReserved, row.TenantReserved, row.WorkerMissing);
    }

    public async Task ReleaseAsync(IDbSession session, Guid tenantId, Guid? keyId, Guid runId, long tokens, DateTimeOffset now, DateTimeOffset dayStart, DateTimeOffset monthStart, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            ReleaseSql, new { tenantId, keyId, stripe = RunStripes.Of(runId), tokens, now, dayStart, monthStart }, cancellationToken);
    }

    public async Task ReleaseManyAsync(IDbSession session, Guid tenantId, IReadOnlyList<(Guid RunId, Guid? KeyId)> runs, CancellationToken cancellationToken)
    {
        var keySlots = runs.Where(r => r.KeyId is not null)
            .GroupBy(r => (Key: r.KeyId!.Value, Stripe: RunStripes.Of(r.RunId)))
            .OrderBy(g => g.Key.Key).ThenBy(g => g.Key.Stripe)
            .Select(g => (Scope: "key:" + g.Key.Key, g.Key.Stripe, Slots: g.Count()));
        var tenantSlots = runs.GroupBy(r => RunStripes.Of(r.RunId)).OrderBy(g => g.Key).Select(g => (Scope: "tenant", Stripe: g.Key, Slots: g.Count()));
        foreach (var (scope, stripe, slots) in keySlots.Concat(tenantSlots))
        {
            await session.ExecuteAsync(
                "SELECT run_stripe_release(@tenantId, @scope, @stripe, @slots)", new { tenantId, scope, stripe, slots }, cancellationToken);
        }
    }

    private sealed class AdmissionRow
    {
        public bool WorkerCounted { get; init; }
        public int? MaxTokensPerRun { get; init; }
        public bool KeyReserved { get; init; }
        public bool TenantReserved { get; init; }
        public bool WorkerMissing { get; init; }
    }
}
