-- Meters as data (issue 14, docs/decisions/0640): each meter has a unit, a precision and an aggregation, and a price per plan.
-- Seeded with seed 003's meters and prices; operators add meters and price them over /v1/admin/meters without a code change.
-- A meter's aggregation never changes once created: its rollups and invoices were computed with it.
CREATE TABLE meters (
    key             text        PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit            text        NOT NULL CHECK (length(unit) BETWEEN 1 AND 50),
    decimals        integer     NOT NULL CHECK (decimals BETWEEN 0 AND 6),
    aggregation     text        NOT NULL CHECK (aggregation IN ('sum', 'count', 'max', 'unique_count', 'latest', 'gauge')),
    unique_property text        CHECK (unique_property ~ '^[A-Za-z0-9_.-]{1,64}$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((aggregation = 'unique_count') = (unique_property IS NOT NULL))
);
COMMENT ON TABLE meters IS 'global: the meter catalogue';

INSERT INTO meters (key, name, unit, decimals, aggregation) VALUES
    ('api_calls', 'API calls', 'calls', 0, 'sum'),
    ('tokens', 'Tokens', 'tokens', 0, 'sum'),
    ('runs', 'Runs', 'runs', 0, 'sum'),
    ('gpu_hours', 'GPU hours', 'hours', 4, 'sum'),
    ('storage_gb', 'Storage', 'GB', 3, 'gauge');

-- Price of a meter's use beyond what the plan includes, per plan, in cents per unit (fractional cents allowed). included is the
-- quantity the plan includes for meters without a plan quota; for api_calls, storage_gb and gpu_hours the quota is the tenant's
-- effective limit (plan + overrides, ADR 0562) and included stays null.
CREATE TABLE meter_prices (
    meter            text        NOT NULL REFERENCES meters (key),
    plan             text        NOT NULL CHECK (plan ~ '^[a-z][a-z0-9_-]{0,62}$'),
    unit_price_cents numeric     NOT NULL CHECK (unit_price_cents >= 0 AND scale(unit_price_cents) <= 6),
    included         numeric     CHECK (included >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meter, plan)
);
COMMENT ON TABLE meter_prices IS 'global: overage price of each meter per plan';

INSERT INTO meter_prices (meter, plan, unit_price_cents)
SELECT m.meter, p.plan, m.cents
FROM (VALUES ('api_calls', 0.1), ('storage_gb', 2.3), ('gpu_hours', 250)) AS m(meter, cents)
CROSS JOIN (VALUES ('free'), ('starter'), ('professional'), ('enterprise')) AS p(plan);

GRANT SELECT, INSERT ON meters TO platform_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON meter_prices TO platform_app;
GRANT SELECT ON meters, meter_prices TO platform_xt;

-- Events may carry a small JSON object (unique_count counts distinct values of one of its properties).
ALTER TABLE usage_events ADD COLUMN metadata jsonb CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object');
-- Aggregations other than sum read a tenant's events of one meter in time order.
CREATE INDEX usage_events_meter_time_idx ON usage_events (tenant_id, meter, occurred_at);

-- The close reads gauge meters from the raw events (a level persists into months without a report).
CREATE POLICY cross_tenant_read ON usage_events FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON usage_events TO platform_xt;

-- The value of a meter over [p_from, p_to) from the tenant's raw events, by the meter's aggregation; unknown meters sum.
-- gauge: the time-weighted level, the integral of the level over the window divided by the window's length (GB-month when
-- the window is a month); the level is the amount of the latest event at or before a moment (ties: the later recorded, then the
-- greater key), carried in from before the window, 0 before the first event; rounded to 6 decimals, half away from zero.
-- latest: the amount of the latest event in the window; max: the largest amount; count: the number of events;
-- unique_count: the number of distinct values of the metadata property. No events: 0. Trailing zeros are dropped (120.5, not
-- 120.500000), as the service shows values (ADR 0560). Runs as the caller (RLS applies).
CREATE FUNCTION usage_meter_value(p_tenant_id uuid, p_meter text, p_from timestamptz, p_to timestamptz)
    RETURNS numeric
    LANGUAGE plpgsql STABLE
    AS $$
    DECLARE
        v_aggregation text;
        v_property text;
        v_result numeric;
    BEGIN
        SELECT m.aggregation, m.unique_property INTO v_aggregation, v_property FROM meters m WHERE m.key = p_meter;
        v_aggregation := coalesce(v_aggregation, 'sum');
        IF v_aggregation = 'gauge' THEN
            SELECT round(coalesce(sum(s.level * extract(epoch FROM (s.next_at - s.at))), 0) / extract(epoch FROM (p_to - p_from)), 6)
            INTO v_result
            FROM (
                SELECT p.at, p.level, lead(p.at, 1, p_to) OVER (ORDER BY p.at, p.ord, p.recorded_at, p.k) AS next_at
                FROM (
                    SELECT p_from AS at, 0 AS ord, c.recorded_at, c.idempotency_key AS k, c.amount AS level
                    FROM (SELECT e.recorded_at, e.idempotency_key, e.amount
                          FROM usage_events e
                          WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at < p_from
                          ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.idempotency_key DESC
                          LIMIT 1) c
                    UNION ALL
                    SELECT e.occurred_at, 1, e.recorded_at, e.idempotency_key, e.amount
                    FROM usage_events e
                    WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to
                ) p
            ) s;
        ELSIF v_aggregation = 'latest' THEN
            SELECT e.amount INTO v_result
            FROM usage_events e
            WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to
            ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.idempotency_key DESC
            LIMIT 1;
        ELSE
            SELECT CASE v_aggregation
                       WHEN 'sum' THEN sum(e.amount)
                       WHEN 'count' THEN count(*)::numeric
                       WHEN 'max' THEN max(e.amount)
                       WHEN 'unique_count' THEN count(DISTINCT e.metadata ->> v_property)::numeric
                   END
            INTO v_result
            FROM usage_events e
            WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to;
        END IF;
        RETURN trim_scale(coalesce(v_result, 0));
    END
    $$;
GRANT EXECUTE ON FUNCTION usage_meter_value(uuid, text, timestamptz, timestamptz) TO platform_app, platform_xt;

-- Billing's usage seam: rollups (kept by ingestion with each meter's aggregation), except gauge meters, whose months are computed
-- from the raw events so that a level carried into a month without a report is billed; plus the imported billing_usage_inputs.
CREATE OR REPLACE FUNCTION billing_usage_totals(p_tenant_id uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (meter text, quantity numeric)
    LANGUAGE sql STABLE
    AS $$
        SELECT u.meter, sum(u.quantity)
        FROM (
            SELECT r.meter, r.used::numeric AS quantity
            FROM usage_rollups r
            WHERE r.tenant_id = p_tenant_id
              AND r.period_start >= (p_from AT TIME ZONE 'UTC')::date
              AND r.period_start < (p_to AT TIME ZONE 'UTC')::date
              AND NOT EXISTS (SELECT 1 FROM meters m WHERE m.key = r.meter AND m.aggregation = 'gauge')
            UNION ALL
            SELECT g.key, usage_meter_value(p_tenant_id, g.key, mo.start, mo.start + interval '1 month')
            FROM meters g
            CROSS JOIN LATERAL (
                SELECT (d AT TIME ZONE 'UTC') AS start
                FROM generate_series(date_trunc('month', p_from AT TIME ZONE 'UTC'), (p_to AT TIME ZONE 'UTC') - interval '1 microsecond', interval '1 month') d
            ) mo
            WHERE g.aggregation = 'gauge'
              AND EXISTS (SELECT 1 FROM usage_events e
                          WHERE e.tenant_id = p_tenant_id AND e.meter = g.key AND e.occurred_at < mo.start + interval '1 month')
            UNION ALL
            SELECT i.meter, i.quantity
            FROM billing_usage_inputs i
            WHERE i.tenant_id = p_tenant_id AND i.period_start >= p_from AND i.period_start < p_to
        ) u
        GROUP BY u.meter
    $$;
