using Platform.Drivers.Sessions;
using Platform.Models.Usage;

namespace Platform.Drivers.Usage;

/// <summary>Holds quota reservations: amounts of a meter held for a few seconds by a quota check, consumed by a usage event or lapsing at their expiry (ADR 0710).</summary>
public interface IReservationDriver
{
    /// <summary>Takes the transaction-scoped lock of a tenant's meter (the one the recompute of non-sum rollups takes, ADR 0640), in its own statement,
    /// so that the statements after it see every check and ingestion of the meter committed before.</summary>
    Task LockMeterAsync(IDbSession session, Guid tenantId, string meter, CancellationToken cancellationToken);

    /// <summary>Reads, in one statement, a meter's rollup of the month starting at the period, the sum of its reservations active at now and whether its policy is hard.</summary>
    Task<MeterQuotaState> ReadStateAsync(IDbSession session, Guid tenantId, string meter, DateOnly period, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Reads, in one statement and without a lock, the figures of every meter the tenant used in the month starting at the period, holds at now
    /// or has a hard policy for (a meter absent has used and reserved nothing and is soft).</summary>
    Task<IReadOnlyList<MeterQuotaFigures>> ListFiguresAsync(IDbSession session, Guid tenantId, DateOnly period, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sums the amounts of a meter's reservations active at now (not consumed, not expired).</summary>
    Task<decimal> SumActiveAsync(IDbSession session, Guid tenantId, string meter, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Decides and holds in one statement (reserve_quota, ADR 0765): with a finite limit and a hard policy, takes the meter's lock first; reads the
    /// month's use, the active holds and the policy; refuses (Held false, nothing written) when hard and used plus held plus amount would pass the limit,
    /// otherwise inserts the hold from now until its expiry. A null limit (none or unlimited) never refuses and takes no lock.</summary>
    Task<QuotaHoldResult> ReserveAsync(IDbSession session, Guid tenantId, Guid id, string meter, decimal amount, DateOnly period, DateTimeOffset now,
        DateTimeOffset expiresAt, long? limit, CancellationToken cancellationToken);

    /// <summary>Marks the given reservations consumed by the usage events' idempotency keys (the first key per reservation, in id order) where they are still
    /// active at now; returns every given reservation the tenant has, with its meter and whether it was active (an unknown id is absent).</summary>
    Task<IReadOnlyList<UsageReservationRef>> ConsumeAsync(IDbSession session, Guid tenantId, IReadOnlyList<(Guid Id, string Key)> uses, DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Makes consumed reservations active again (their event was refused by a hard meter, ADR 0770): consumed_at and consumed_by are cleared.</summary>
    Task ReleaseAsync(IDbSession session, Guid tenantId, IReadOnlyList<Guid> ids, CancellationToken cancellationToken);

    /// <summary>Deletes up to limit reservations of every tenant that expired before the given time; returns how many.</summary>
    Task<int> PurgeAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);
}

internal sealed class ReservationDriver : IReservationDriver
{
    public async Task LockMeterAsync(IDbSession session, Guid tenantId, string meter, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@tenantId::text || '/' || @meter, 640))", new { tenantId, meter }, cancellationToken);
    }

    public async Task<MeterQuotaState> ReadStateAsync(IDbSession session, Guid tenantId, string meter, DateOnly period, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<StateRow>(
            """
            SELECT coalesce((SELECT u.used FROM usage_rollups u
                             WHERE u.tenant_id = @tenantId AND u.meter = @meter AND u.period_start = @period::timestamp::date), 0) AS used,
                   coalesce((SELECT sum(r.amount) FROM usage_reservations r
                             WHERE r.tenant_id = @tenantId AND r.meter = @meter AND r.consumed_at IS NULL AND r.expires_at > @now), 0) AS reserved,
                   EXISTS (SELECT 1 FROM usage_meter_policies p WHERE p.tenant_id = @tenantId AND p.meter = @meter AND p.policy = 'hard') AS hard
            """,
            new { tenantId, meter, period = period.ToDateTime(TimeOnly.MinValue), now }, cancellationToken);
        return new MeterQuotaState(MeterPrecision.Normalize(row.Used), MeterPrecision.Normalize(row.Reserved), row.Hard);
    }

    public async Task<IReadOnlyList<MeterQuotaFigures>> ListFiguresAsync(IDbSession session, Guid tenantId, DateOnly period, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            WITH u AS (SELECT meter, used FROM usage_rollups WHERE tenant_id = @tenantId AND period_start = @period::timestamp::date),
                 r AS (SELECT meter, sum(amount) AS reserved, min(expires_at) AS next_expiry FROM usage_reservations
                       WHERE tenant_id = @tenantId AND consumed_at IS NULL AND expires_at > @now GROUP BY meter),
                 p AS (SELECT meter FROM usage_meter_policies WHERE tenant_id = @tenantId AND policy = 'hard'),
                 m AS (SELECT meter FROM u UNION SELECT meter FROM r UNION SELECT meter FROM p)
            SELECT m.meter, coalesce(u.used, 0) AS used, coalesce(r.reserved, 0) AS reserved, r.next_expiry, p.meter IS NOT NULL AS hard
            FROM m LEFT JOIN u USING (meter) LEFT JOIN r USING (meter) LEFT JOIN p USING (meter)
            """,
            new { tenantId, period = period.ToDateTime(TimeOnly.MinValue), now },
            (FiguresRow f) => new MeterQuotaFigures(f.Meter, MeterPrecision.Normalize(f.Used), MeterPrecision.Normalize(f.Reserved), f.NextExpiry, f.Hard),
            cancellationToken);
    }

    public async Task<decimal> SumActiveAsync(IDbSession session, Guid tenantId, string meter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return MeterPrecision.Normalize(await session.QuerySingleAsync<decimal>(
            """
            SELECT coalesce(sum(r.amount), 0) FROM usage_reservations r
            WHERE r.tenant_id = @tenantId AND r.meter = @meter AND r.consumed_at IS NULL AND r.expires_at > @now
            """,
            new { tenantId, meter, now }, cancellationToken));
    }

    public async Task<QuotaHoldResult> ReserveAsync(IDbSession session, Guid tenantId, Guid id, string meter, decimal amount, DateOnly period, DateTimeOffset now,
        DateTimeOffset expiresAt, long? limit, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<HoldRow>(
            "SELECT used, reserved, hard, held FROM reserve_quota(@tenantId, @meter, @period::timestamp::date, @now, @id, @amount, @expiresAt, @limit)",
            new { tenantId, meter, period = period.ToDateTime(TimeOnly.MinValue), now, id, amount = MeterPrecision.Normalize(amount), expiresAt, limit = (decimal?)limit },
            cancellationToken);
        return new QuotaHoldResult(MeterPrecision.Normalize(row.Used), MeterPrecision.Normalize(row.Reserved), row.Hard, row.Held);
    }

    public async Task<IReadOnlyList<UsageReservationRef>> ConsumeAsync(IDbSession session, Guid tenantId, IReadOnlyList<(Guid Id, string Key)> uses,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = uses.Select(u => u.Id).ToArray();
        var keys = uses.Select(u => u.Key).ToArray();
        // The rows are locked in id order (the UPDATE below follows the locking SELECT), so that batches sharing reservations cannot deadlock;
        // a data-modifying WITH runs whether or not the final SELECT reads it.
        return await session.ListAsync(
            """
            WITH wanted AS (
                SELECT DISTINCT ON (x.id) x.id, x.k
                FROM unnest(@ids::uuid[], @keys::text[]) WITH ORDINALITY AS x(id, k, n)
                ORDER BY x.id, x.n
            ), locked AS (
                SELECT r.id, r.meter, r.amount, (r.consumed_at IS NULL AND r.expires_at > @now) AS active
                FROM usage_reservations r JOIN wanted w ON w.id = r.id
                WHERE r.tenant_id = @tenantId
                ORDER BY r.id
                FOR UPDATE OF r
            ), consumed AS (
                UPDATE usage_reservations r SET consumed_at = @now, consumed_by = w.k
                FROM locked l JOIN wanted w ON w.id = l.id
                WHERE r.tenant_id = @tenantId AND r.id = l.id AND l.active
                RETURNING r.id
            )
            SELECT l.id, l.meter, l.amount, l.active FROM locked l ORDER BY l.id
            """,
            new { tenantId, ids, keys, now },
            (ConsumeRow r) => new UsageReservationRef(r.Id, r.Meter, r.Active, MeterPrecision.Normalize(r.Amount)), cancellationToken);
    }

    public async Task ReleaseAsync(IDbSession session, Guid tenantId, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToArray();
        await session.ExecuteAsync(
            "UPDATE usage_reservations SET consumed_at = NULL, consumed_by = NULL WHERE tenant_id = @tenantId AND id = ANY (@list)",
            new { tenantId, list }, cancellationToken);
    }

    public async Task<int> PurgeAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>("SELECT purge_usage_reservations(@before, @limit)", new { before, limit }, cancellationToken);
    }

    private sealed class StateRow
    {
        public decimal Used { get; init; }
        public decimal Reserved { get; init; }
        public bool Hard { get; init; }
    }

    private sealed class HoldRow
    {
        public decimal Used { get; init; }
        public decimal Reserved { get; init; }
        public bool Hard { get; init; }
        public bool Held { get; init; }
    }

    private sealed class FiguresRow
    {
        public string Meter { get; init; } = "";
        public decimal Used { get; init; }
        public decimal Reserved { get; init; }
        public DateTimeOffset? NextExpiry { get; init; }
        public bool Hard { get; init; }
    }

    private sealed class ConsumeRow
    {
        public Guid Id { get; init; }
        public string Meter { get; init; } = "";
        public bool Active { get; init; }
        public decimal Amount { get; init; }
    }
}
