using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Usage;

namespace Platform.Drivers.Usage;

/// <summary>Stores usage events once per idempotency key and keeps the monthly (UTC) rollups that sum them.</summary>
public interface IUsageDriver
{
    /// <summary>Inserts the events whose keys the tenant has not used yet and adds what was inserted to the monthly rollups, in one statement;
    /// returns how many were inserted and each touched rollup's total before and after this write.</summary>
    Task<UsageInsertResult> InsertEventsAsync(IDbSession session, Guid tenantId, IReadOnlyList<UsageEvent> events, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Computes again, from the raw events, the rollups of the given meters (none of them summed) in the months the batch's events fall in,
    /// and for gauges every month after up to the month of now (a level persists); one transaction-scoped lock per tenant and meter is taken
    /// first, in its own statement, so that the computing statement's snapshot holds every batch committed before (exact under concurrency).
    /// Returns each rollup's value before and after, and whether the tenant's policy of the meter is hard.</summary>
    Task<IReadOnlyList<RollupChange>> RecomputeRollupsAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> meters, IReadOnlyList<UsageEvent> events,
        DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds an amount to a meter's rollup of the month that holds the given time, without a raw event (counted meters such as api_calls);
    /// returns the rollup's total before and after this write.</summary>
    Task<RollupChange> AddToRollupAsync(IDbSession session, Guid tenantId, string meter, decimal amount, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists which of the given meters the tenant's policy makes hard, each with whether its aggregation is sum (unknown meters sum) and whether
    /// it reports a level (gauge, max: each event's amount is the value itself, ADR 0795).</summary>
    Task<IReadOnlyList<(string Meter, bool Summed, bool Level)>> ListHardAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> meters, CancellationToken cancellationToken);

    /// <summary>Locks the rollup rows of the given (meter, month) pairs in (meter, month) order, creating those missing with 0, and returns each one's total
    /// (the per-event admission of hard summed meters, ADR 0770: the rows stay locked until the transaction ends).</summary>
    Task<IReadOnlyDictionary<(string Meter, DateOnly Period), decimal>> LockRollupsAsync(IDbSession session, Guid tenantId,
        IReadOnlyList<(string Meter, DateOnly Period)> rollups, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives which of the given idempotency keys the tenant has already stored.</summary>
    Task<IReadOnlySet<string>> ExistingKeysAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Sets a savepoint in the session's transaction, so that one event's write can be undone alone (ADR 0770).</summary>
    Task SavepointAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Undoes the writes since the savepoint (true) or keeps them (false), and releases the savepoint.</summary>
    Task EndSavepointAsync(IDbSession session, bool rollback, CancellationToken cancellationToken);

    /// <summary>Sets the tenant's policy of a meter (soft removes the row: soft is the default) and returns it.</summary>
    Task<MeterPolicy> SetMeterPolicyAsync(IDbSession session, Guid tenantId, string meter, MeterPolicy policy, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Tells whether the tenant's policy of a meter is hard.</summary>
    Task<bool> IsHardAsync(IDbSession session, Guid tenantId, string meter, CancellationToken cancellationToken);

    /// <summary>Lists raw events newest first (occurred_at, then idempotency key, descending) after a cursor position, matching the filter; at most limit rows.</summary>
    Task<IReadOnlyList<StoredUsageEvent>> ListEventsAsync(IDbSession session, Guid tenantId, UsageEventFilter filter, (DateTimeOffset OccurredAt, string Key)? after,
        int limit, CancellationToken cancellationToken);

    /// <summary>Computes, from the raw events of one worker or one API key (the filter), each meter's value per month from one month to another (both
    /// inclusive) with the meter's aggregation; months without such events are left out.</summary>
    Task<IReadOnlyList<UsageRollup>> ListAttributedAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, UsageEventFilter filter,
        CancellationToken cancellationToken);

    /// <summary>Computes, from the raw events, each meter's value per UTC day from one day to another (both inclusive, within one month) with the
    /// meter's aggregation, optionally of one meter, worker or API key; every day is listed for each meter that has raw events in the month
    /// holding the first day (days without events are 0, or a gauge's level carried on). Meters counted without raw events (api_calls) have no days.</summary>
    Task<IReadOnlyList<UsageRollup>> ListDailyAsync(IDbSession session, Guid tenantId, DateOnly fromDay, DateOnly toDay, UsageEventFilter filter,
        CancellationToken cancellationToken);

    /// <summary>Lists the rollups of months starting from one date to another (both inclusive), optionally of one meter, by month then meter.</summary>
    Task<IReadOnlyList<UsageRollup>> ListRollupsAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, string? meter, CancellationToken cancellationToken);
}

internal sealed class UsageDriver : IUsageDriver
{
    public async Task<UsageInsertResult> InsertEventsAsync(IDbSession session, Guid tenantId, IReadOnlyList<UsageEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = new string[events.Count];
        var meters = new string[events.Count];
        var amounts = new decimal[events.Count];
        var occurred = new DateTime[events.Count];
        var metadata = new string?[events.Count];
        var workers = new string?[events.Count];
        var apiKeys = new Guid?[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            keys[i] = events[i].IdempotencyKey;
            meters[i] = events[i].Meter;
            amounts[i] = MeterPrecision.Normalize(events[i].Amount);
            occurred[i] = events[i].OccurredAt.UtcDateTime;
            metadata[i] = events[i].Metadata;
            workers[i] = events[i].WorkerId;
            apiKeys[i] = events[i].ApiKeyId;
        }
        // Rows go in the order given (the engine sorts by key) and rollups in (meter, period) order, so that
        // concurrent batches take their locks in one order and cannot deadlock.
        // The rollup upsert returns the total after this write; what this write added comes from the inserted rows, so the engine
        // sees before and after without another round trip.
        var rows = (await session.QueryAsync<InsertRow>(
            """
            WITH inserted AS (
                INSERT INTO usage_events (tenant_id, idempotency_key, meter, amount, occurred_at, recorded_at, metadata, worker_id, api_key_id)
                SELECT @tenantId, e.k, e.m, e.a, e.o, @now, e.d::jsonb, e.w, e.ak
                FROM unnest(@keys::text[], @meters::text[], @amounts::numeric[], @occurred::timestamptz[], @metadata::text[], @workers::text[], @apiKeys::uuid[])
                     WITH ORDINALITY AS e(k, m, a, o, d, w, ak, n)
                ORDER BY e.n
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                RETURNING meter, amount, occurred_at
            ), sums AS (
                SELECT i.meter, date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date AS period_start, sum(i.amount) AS added
                FROM inserted i
                WHERE NOT EXISTS (SELECT 1 FROM meters m WHERE m.key = i.meter AND m.aggregation <> 'sum')
                GROUP BY 1, 2
            ), rolled AS (
                INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
                SELECT @tenantId, x.meter, x.period_start, x.added, @now
                FROM sums x
                ORDER BY x.meter, x.period_start
                ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET
                    used = u.used + excluded.used, updated_at = excluded.updated_at
                RETURNING u.meter, u.period_start, u.used
            )
            SELECT c.n AS inserted,
                   (SELECT array_agg(DISTINCT i.meter ORDER BY i.meter) FROM inserted i
                    WHERE EXISTS (SELECT 1 FROM meters m WHERE m.key = i.meter AND m.aggregation <> 'sum')) AS aggregated,
                   r.meter, r.period_start::timestamp AS period_start, r.used, x.added,
                   EXISTS (SELECT 1 FROM usage_meter_policies p WHERE p.tenant_id = @tenantId AND p.meter = r.meter AND p.policy = 'hard') AS hard
            FROM (SELECT count(*)::int AS n FROM inserted) c
            LEFT JOIN (rolled r JOIN sums x ON x.meter = r.meter AND x.period_start = r.period_start) ON true
            ORDER BY r.meter, r.period_start
            """,
            new { tenantId, keys, meters, amounts, occurred, metadata, workers, apiKeys, now }, cancellationToken)).ToList();
        var changes = rows.Where(r => r.Meter is not null)
            .Select(r => new RollupChange(r.Meter!, DateOnly.FromDateTime(r.PeriodStart!.Value), MeterPrecision.Normalize(r.Used!.Value - r.Added!.Value), MeterPrecision.Normalize(r.Used.Value), r.Hard == true))
            .ToList();
        return new UsageInsertResult(rows.Count == 0 ? 0 : rows[0].Inserted, changes, rows.Count == 0 ? null : rows[0].Aggregated);
    }

    public async Task<IReadOnlyList<RollupChange>> RecomputeRollupsAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> meters, IReadOnlyList<UsageEvent> events,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var aggregated = meters.Distinct().Order(StringComparer.Ordinal).ToArray();
        await session.ExecuteAsync(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(@tenantId::text || '/' || m, 640))) FROM unnest(@aggregated::text[]) AS m ORDER BY 1",
            new { tenantId, aggregated }, cancellationToken);
        var eventMeters = events.Select(e => e.Meter).ToArray();
        var occurred = events.Select(e => e.OccurredAt.UtcDateTime).ToArray();
        var rows = await session.QueryAsync<RecomputeRow>(
            """
            WITH batch AS (
                SELECT e.m AS meter, date_trunc('month', e.o AT TIME ZONE 'UTC')::date AS period_start
                FROM unnest(@eventMeters::text[], @occurred::timestamptz[]) AS e(m, o)
                WHERE e.m = ANY (@aggregated::text[])
                GROUP BY 1, 2
            ), targets AS (
                SELECT b.meter, b.period_start FROM batch b
                UNION
                SELECT f.meter, g::date
                FROM (SELECT b.meter, min(b.period_start) AS first FROM batch b GROUP BY b.meter) f
                JOIN meters m ON m.key = f.meter AND m.aggregation = 'gauge'
                CROSS JOIN LATERAL generate_series(f.first::timestamp, date_trunc('month', @now AT TIME ZONE 'UTC'), interval '1 month') g
            ), old AS (
                SELECT u.meter, u.period_start, u.used
                FROM usage_rollups u JOIN targets t ON t.meter = u.meter AND t.period_start = u.period_start
                WHERE u.tenant_id = @tenantId
            ), rolled AS (
                INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
                SELECT @tenantId, t.meter, t.period_start,
                       usage_meter_value(@tenantId, t.meter, t.period_start::timestamp AT TIME ZONE 'UTC', (t.period_start + interval '1 month') AT TIME ZONE 'UTC'),
                       @now
                FROM targets t
                ORDER BY t.meter, t.period_start
                ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET used = excluded.used, updated_at = excluded.updated_at
                RETURNING u.meter, u.period_start, u.used
            )
            SELECT r.meter, r.period_start::timestamp AS period_start, coalesce(o.used, 0) AS before, r.used AS after,
                   EXISTS (SELECT 1 FROM usage_meter_policies p WHERE p.tenant_id = @tenantId AND p.meter = r.meter AND p.policy = 'hard') AS hard
            FROM rolled r LEFT JOIN old o ON o.meter = r.meter AND o.period_start = r.period_start
            ORDER BY r.meter, r.period_start
            """,
            new { tenantId, aggregated, eventMeters, occurred, now }, cancellationToken);
        return rows.Select(r => new RollupChange(r.Meter, DateOnly.FromDateTime(r.PeriodStart), MeterPrecision.Normalize(r.Before), MeterPrecision.Normalize(r.After), r.Hard))
            .ToList();
    }

    public async Task<RollupChange> AddToRollupAsync(IDbSession session, Guid tenantId, string meter, decimal amount, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<RollupRow>(
            """
            INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
            VALUES (@tenantId, @meter, date_trunc('month', @at AT TIME ZONE 'UTC')::date, @amount, @now)
            ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET
                used = u.used + excluded.used, updated_at = excluded.updated_at
            RETURNING u.meter, u.period_start::timestamp AS period_start, u.used
            """,
            new { tenantId, meter, amount = MeterPrecision.Normalize(amount), at, now }, cancellationToken);
        return new RollupChange(row.Meter, DateOnly.FromDateTime(row.PeriodStart), MeterPrecision.Normalize(row.Used - amount), MeterPrecision.Normalize(row.Used));
    }

    public async Task<IReadOnlyList<(string Meter, bool Summed, bool Level)>> ListHardAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> meters,
        CancellationToken cancellationToken)
    {
        var list = meters.ToArray();
        var rows = await session.QueryAsync<HardRow>(
            """
            SELECT p.meter, coalesce(m.aggregation, 'sum') = 'sum' AS summed, coalesce(m.aggregation IN ('gauge', 'max'), false) AS level
            FROM usage_meter_policies p LEFT JOIN meters m ON m.key = p.meter
            WHERE p.tenant_id = @tenantId AND p.policy = 'hard' AND p.meter = ANY (@list)
            ORDER BY p.meter
            """,
            new { tenantId, list }, cancellationToken);
        return rows.Select(r => (r.Meter, r.Summed, r.Level)).ToList();
    }

    public async Task<IReadOnlyDictionary<(string Meter, DateOnly Period), decimal>> LockRollupsAsync(IDbSession session, Guid tenantId,
        IReadOnlyList<(string Meter, DateOnly Period)> rollups, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ordered = rollups.Distinct().OrderBy(r => r.Meter, StringComparer.Ordinal).ThenBy(r => r.Period).ToList();
        var meters = ordered.Select(r => r.Meter).ToArray();
        var periods = ordered.Select(r => r.Period.ToDateTime(TimeOnly.MinValue)).ToArray();
        // An upsert that changes nothing locks the row whether or not it existed, in the order given (meter, month): the same order the insert
        // statement locks rollups in, so batches cannot deadlock.
        var rows = await session.QueryAsync<RollupRow>(
            """
            INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at)
            SELECT @tenantId, x.m, x.p::date, 0, @now
            FROM unnest(@meters::text[], @periods::timestamp[]) WITH ORDINALITY AS x(m, p, n)
            ORDER BY x.n
            ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET used = u.used
            RETURNING u.meter, u.period_start::timestamp AS period_start, u.used
            """,
            new { tenantId, meters, periods, now }, cancellationToken);
        return rows.ToDictionary(r => (r.Meter, DateOnly.FromDateTime(r.PeriodStart)), r => MeterPrecision.Normalize(r.Used));
    }

    public async Task<IReadOnlySet<string>> ExistingKeysAsync(IDbSession session, Guid tenantId, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var list = keys.Distinct().ToArray();
        var rows = await session.QueryAsync<string>(
            "SELECT e.idempotency_key FROM usage_events e WHERE e.tenant_id = @tenantId AND e.idempotency_key = ANY (@list)",
            new { tenantId, list }, cancellationToken);
        return rows.ToHashSet(StringComparer.Ordinal);
    }

    public async Task SavepointAsync(IDbSession session, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("SAVEPOINT usage_event", null, cancellationToken);
    }

    public async Task EndSavepointAsync(IDbSession session, bool rollback, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(rollback ? "ROLLBACK TO SAVEPOINT usage_event; RELEASE SAVEPOINT usage_event" : "RELEASE SAVEPOINT usage_event",
            null, cancellationToken);
    }

    public async Task<MeterPolicy> SetMeterPolicyAsync(IDbSession session, Guid tenantId, string meter, MeterPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            policy == MeterPolicy.Hard
                ? """
                  INSERT INTO usage_meter_policies (tenant_id, meter, policy, updated_at) VALUES (@tenantId, @meter, 'hard', @now)
                  ON CONFLICT (tenant_id, meter) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at
                  """
                : "DELETE FROM usage_meter_policies WHERE tenant_id = @tenantId AND meter = @meter",
            new { tenantId, meter, now }, cancellationToken);
        return policy;
    }

    public async Task<bool> IsHardAsync(IDbSession session, Guid tenantId, string meter, CancellationToken cancellationToken)
    {
        return await session.QuerySingleAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM usage_meter_policies p WHERE p.tenant_id = @tenantId AND p.meter = @meter AND p.policy = 'hard')",
            new { tenantId, meter }, cancellationToken);
    }

    public async Task<IReadOnlyList<UsageRollup>> ListRollupsAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, string? meter, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT u.meter, u.period_start::timestamp AS period_start, u.used
            FROM usage_rollups u
            WHERE u.tenant_id = @tenantId
              AND u.period_start BETWEEN @fromPeriod::timestamp::date AND @toPeriod::timestamp::date
              AND (@meter::text IS NULL OR u.meter = @meter)
            ORDER BY u.period_start, u.meter
            """,
            new { tenantId, fromPeriod = fromPeriod.ToDateTime(TimeOnly.MinValue), toPeriod = toPeriod.ToDateTime(TimeOnly.MinValue), meter },
            (RollupRow r) => new UsageRollup(r.Meter, DateOnly.FromDateTime(r.PeriodStart), MeterPrecision.Normalize(r.Used)), cancellationToken);
    }

    public async Task<IReadOnlyList<StoredUsageEvent>> ListEventsAsync(IDbSession session, Guid tenantId, UsageEventFilter filter,
        (DateTimeOffset OccurredAt, string Key)? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT e.idempotency_key, e.meter, e.amount, e.occurred_at, e.recorded_at, e.worker_id, e.api_key_id, e.metadata::text AS metadata
            FROM usage_events e
            WHERE e.tenant_id = @tenantId
              AND (@meter::text IS NULL OR e.meter = @meter)
              AND (@from::timestamptz IS NULL OR e.occurred_at >= @from)
              AND (@to::timestamptz IS NULL OR e.occurred_at < @to)
              AND (@workerId::text IS NULL OR e.worker_id = @workerId)
              AND (@apiKeyId::uuid IS NULL OR e.api_key_id = @apiKeyId)
              AND (@afterAt::timestamptz IS NULL OR (e.occurred_at, e.idempotency_key) < (@afterAt, @afterKey::text))
            ORDER BY e.occurred_at DESC, e.idempotency_key DESC
            LIMIT @limit
            """,
            new
            {
                tenantId, meter = filter.Meter, from = filter.From, to = filter.To, workerId = filter.WorkerId, apiKeyId = filter.ApiKeyId,
                afterAt = after?.OccurredAt, afterKey = after?.Key, limit,
            },
            (EventRow r) => new StoredUsageEvent(r.IdempotencyKey, r.Meter, MeterPrecision.Normalize(r.Amount), r.OccurredAt.ToUtcOffset(), r.RecordedAt.ToUtcOffset(),
                r.WorkerId, r.ApiKeyId, r.Metadata),
            cancellationToken);
    }

    public async Task<IReadOnlyList<UsageRollup>> ListAttributedAsync(IDbSession session, Guid tenantId, DateOnly fromPeriod, DateOnly toPeriod, UsageEventFilter filter,
        CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            WITH months AS (
                SELECT d::date AS period_start
                FROM generate_series(@fromPeriod::timestamp, @toPeriod::timestamp, interval '1 month') d
            ), present AS (
                SELECT DISTINCT e.meter, date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::date AS period_start
                FROM usage_events e
                WHERE e.tenant_id = @tenantId
                  AND e.occurred_at >= @fromPeriod::timestamp AT TIME ZONE 'UTC'
                  AND e.occurred_at < (@toPeriod::timestamp + interval '1 month') AT TIME ZONE 'UTC'
                  AND (@meter::text IS NULL OR e.meter = @meter)
                  AND (@workerId::text IS NULL OR e.worker_id = @workerId)
                  AND (@apiKeyId::uuid IS NULL OR e.api_key_id = @apiKeyId)
            )
            SELECT p.meter, p.period_start::timestamp AS period_start,
                   usage_meter_value(@tenantId, p.meter, p.period_start::timestamp AT TIME ZONE 'UTC',
                                     (p.period_start + interval '1 month') AT TIME ZONE 'UTC', @workerId, @apiKeyId) AS used
            FROM present p JOIN months m ON m.period_start = p.period_start
            ORDER BY p.period_start, p.meter
            """,
            new
            {
                tenantId, fromPeriod = fromPeriod.ToDateTime(TimeOnly.MinValue), toPeriod = toPeriod.ToDateTime(TimeOnly.MinValue),
                meter = filter.Meter, workerId = filter.WorkerId, apiKeyId = filter.ApiKeyId,
            },
            (RollupRow r) => new UsageRollup(r.Meter, DateOnly.FromDateTime(r.PeriodStart), MeterPrecision.Normalize(r.Used)), cancellationToken);
    }

    public async Task<IReadOnlyList<UsageRollup>> ListDailyAsync(IDbSession session, Guid tenantId, DateOnly fromDay, DateOnly toDay, UsageEventFilter filter,
        CancellationToken cancellationToken)
    {
        var month = new DateOnly(fromDay.Year, fromDay.Month, 1);
        return await session.ListAsync(
            """
            WITH days AS (
                SELECT d AS day_start
                FROM generate_series(@fromDay::timestamp, @toDay::timestamp, interval '1 day') d
            ), present AS (
                SELECT DISTINCT e.meter
                FROM usage_events e
                WHERE e.tenant_id = @tenantId
                  AND e.occurred_at >= @month::timestamp AT TIME ZONE 'UTC'
                  AND e.occurred_at < (@month::timestamp + interval '1 month') AT TIME ZONE 'UTC'
                  AND (@meter::text IS NULL OR e.meter = @meter)
                  AND (@workerId::text IS NULL OR e.worker_id = @workerId)
                  AND (@apiKeyId::uuid IS NULL OR e.api_key_id = @apiKeyId)
            )
            SELECT p.meter, d.day_start AS period_start,
                   usage_meter_value(@tenantId, p.meter, d.day_start AT TIME ZONE 'UTC', (d.day_start + interval '1 day') AT TIME ZONE 'UTC',
                                     @workerId, @apiKeyId) AS used
            FROM present p CROSS JOIN days d
            ORDER BY d.day_start, p.meter
            """,
            new
            {
                tenantId, fromDay = fromDay.ToDateTime(TimeOnly.MinValue), toDay = toDay.ToDateTime(TimeOnly.MinValue), month = month.ToDateTime(TimeOnly.MinValue),
                meter = filter.Meter, workerId = filter.WorkerId, apiKeyId = filter.ApiKeyId,
            },
            (RollupRow r) => new UsageRollup(r.Meter, DateOnly.FromDateTime(r.PeriodStart), MeterPrecision.Normalize(r.Used)), cancellationToken);
    }

    private sealed class EventRow
    {
        public string IdempotencyKey { get; init; } = "";
        public string Meter { get; init; } = "";
        public decimal Amount { get; init; }
        public DateTime OccurredAt { get; init; }
        public DateTime RecordedAt { get; init; }
        public string? WorkerId { get; init; }
        public Guid? ApiKeyId { get; init; }
        public string? Metadata { get; init; }
    }

    private sealed class RecomputeRow
    {
        public string Meter { get; init; } = "";
        public DateTime PeriodStart { get; init; }
        public decimal Before { get; init; }
        public decimal After { get; init; }
        public bool Hard { get; init; }
    }

    private sealed class InsertRow
    {
        public int Inserted { get; init; }
        public string[]? Aggregated { get; init; }
        public string? Meter { get; init; }
        public DateTime? PeriodStart { get; init; }
        public decimal? Used { get; init; }
        public decimal? Added { get; init; }
        public bool? Hard { get; init; }
    }

    private sealed class HardRow
    {
        public string Meter { get; init; } = "";
        public bool Summed { get; init; }
        public bool Level { get; init; }
    }

    private sealed class RollupRow
    {
        public string Meter { get; init; } = "";
        public DateTime PeriodStart { get; init; }
        public decimal Used { get; init; }
    }
}
