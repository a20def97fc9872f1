using Dapper;
using Platform.Drivers.Sessions;
using Platform.Models.Usage;

namespace Platform.Drivers.Usage;

/// <summary>Stores usage events once per idempotency key and keeps the monthly (UTC) rollups that sum them.</summary>
public interface IUsageDriver
{
    /// <summary>Inserts the events whose keys the tenant has not used yet and adds what was inserted to the monthly rollups, in two set-based statements; returns how many were inserted.</summary>
    Task<int> InsertEventsAsync(IDbSession session, Guid tenantId, IReadOnlyList<UsageEvent> events, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds an amount to a meter's rollup of the month that holds the given time, without a raw event (counted meters such as api_calls).</summary>
    Task AddToRollupAsync(IDbSession session, Guid tenantId, string meter, long amount, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists the rollups of months starting from one date to another (both inclusive), optionally of one meter, by month then meter.</summary>
    Task<IReadOnlyList<UsageRollup>> ListRollupsAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, string? meter, CancellationToken cancellationToken);
}

internal sealed class UsageDriver : IUsageDriver
{
    public async Task<int> InsertEventsAsync(IDbSession session, Guid tenantId, IReadOnlyList<UsageEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = new string[events.Count];
        var meters = new string[events.Count];
        var amounts = new long[events.Count];
        var occurred = new DateTime[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            keys[i] = events[i].IdempotencyKey;
            meters[i] = events[i].Meter;
            amounts[i] = events[i].Amount;
            occurred[i] = events[i].OccurredAt.UtcDateTime;
        }
        var s = session.Npgsql();
        // Rows go in the order given (the engine sorts by key) and rollups in (meter, period) order, so that
        // concurrent batches take their locks in one order and cannot deadlock.
        return await s.Connection.ExecuteScalarAsync<int>(s.Command(
            """
            WITH inserted AS (
                INSERT INTO usage_events (tenant_id, idempotency_key, meter, amount, occurred_at, recorded_at)
                SELECT @tenantId, e.k, e.m, e.a, e.o, @now
                FROM unnest(@keys::text[], @meters::text[], @amounts::bigint[], @occurred::timestamptz[]) WITH ORDINALITY AS e(k, m, a, o, n)
                ORDER BY e.n
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                RETURNING meter, amount, occurred_at
            ), rolled AS (
                INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
                SELECT @tenantId, i.meter, date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date, sum(i.amount), @now
                FROM inserted i
                GROUP BY 2, 3
                ORDER BY 2, 3
                ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET
                    used = u.used + excluded.used, updated_at = excluded.updated_at
            )
            SELECT count(*)::int FROM inserted
            """,
            new { tenantId, keys, meters, amounts, occurred, now }, cancellationToken));
    }

    public async Task AddToRollupAsync(IDbSession session, Guid tenantId, string meter, long amount, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        await s.Connection.ExecuteAsync(s.Command(
            """
            INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
            VALUES (@tenantId, @meter, date_trunc('month', @at AT TIME ZONE 'UTC')::date, @amount, @now)
            ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET
                used = u.used + excluded.used, updated_at = excluded.updated_at
            """,
            new { tenantId, meter, amount, at, now }, cancellationToken));
    }

    public async Task<IReadOnlyList<UsageRollup>> ListRollupsAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, string? meter, CancellationToken cancellationToken)
    {
        var s = session.Npgsql();
        var rows = await s.Connection.QueryAsync<RollupRow>(s.Command(
            """
            SELECT u.meter, u.period_start::timestamp AS period_start, u.used
            FROM usage_rollups u
            WHERE u.tenant_id = @tenantId
              AND u.period_start BETWEEN @fromPeriod::timestamp::date AND @toPeriod::timestamp::date
              AND (@meter::text IS NULL OR u.meter = @meter)
            ORDER BY u.period_start, u.meter
            """,
            new { tenantId, fromPeriod = fromPeriod.ToDateTime(TimeOnly.MinValue), toPeriod = toPeriod.ToDateTime(TimeOnly.MinValue), meter },
            cancellationToken));
        return rows.Select(r => new UsageRollup(r.Meter, DateOnly.FromDateTime(r.PeriodStart), r.Used)).ToList();
    }

    private sealed class RollupRow
    {
        public string Meter { get; init; } = "";
        public DateTime PeriodStart { get; init; }
        public long Used { get; init; }
    }
}
