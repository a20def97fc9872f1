using Dapper;
using Platform.Drivers.Sessions;

namespace Platform.Drivers.ApiKeys;

/// <summary>Keeps an API key's count of running runs: one conditional UPDATE admits a run (allowed worker, concurrency), another gives slots back.</summary>
public interface IApiKeyRunSlotDriver
{
    /// <summary>Counts one more running run on a live key if the worker is among its allowed workers (when set) and the count stays within max_concurrent_runs (when set); returns the new count, or null when refused.</summary>
    Task<int?> TryReserveKeyRunSlotAsync(IDbSession session, Guid tenantId, Guid keyId, string workerId, CancellationToken cancellationToken);

    /// <summary>Gives back run slots of a key (never below zero).</summary>
    Task ReleaseKeyRunSlotsAsync(IDbSession session, Guid tenantId, Guid keyId, int slots, CancellationToken cancellationToken);
}

internal sealed class ApiKeyRunSlotDriver : IApiKeyRunSlotDriver
{
    public async Task<int?> TryReserveKeyRunSlotAsync(IDbSession session, Guid tenantId, Guid keyId, string workerId, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        // Under READ COMMITTED a racing UPDATE of the same key waits and re-checks the WHERE on the new row version,
        // so a limit of N admits exactly N.
        return await s.Connection.QuerySingleOrDefaultAsync<int?>(s.Command(
            """
            UPDATE api_keys AS k SET active_runs = k.active_runs + 1
            WHERE k.tenant_id = @tenantId AND k.id = @keyId
              AND k.revoked_at IS NULL AND k.frozen_at IS NULL
              AND (k.allowed_workers IS NULL OR @workerId::text = ANY (k.allowed_workers))
              AND (k.max_concurrent_runs IS NULL OR k.active_runs < k.max_concurrent_runs)
            RETURNING k.active_runs
            """,
            new { tenantId, keyId, workerId }, cancellationToken));
    }

    public async Task ReleaseKeyRunSlotsAsync(IDbSession session, Guid tenantId, Guid keyId, int slots, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        await s.Connection.ExecuteAsync(s.Command(
            "UPDATE api_keys AS k SET active_runs = greatest(k.active_runs - @slots, 0) WHERE k.tenant_id = @tenantId AND k.id = @keyId",
            new { tenantId, keyId, slots }, cancellationToken));
    }
}
