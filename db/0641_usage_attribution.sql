-- Attributed usage (issue 14, docs/decisions/0641): an event may name the worker it was spent by and carries the API key that sent it
-- (set by the service for key callers, never taken from the body). The history can be filtered by them and raw events are listed.
ALTER TABLE usage_events
    ADD COLUMN worker_id text CHECK (worker_id ~ '^[a-z][a-z0-9_-]{0,62}$'),
    ADD COLUMN api_key_id uuid;

-- The meter's value from the raw events, now optionally of one worker's or one key's events only (null: all).
DROP FUNCTION usage_meter_value(uuid, text, timestamptz, timestamptz);
CREATE FUNCTION usage_meter_value(p_tenant_id uuid, p_meter text, p_from timestamptz, p_to timestamptz,
                                  p_worker_id text DEFAULT NULL, p_api_key_id uuid DEFAULT NULL)
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
                            AND (p_worker_id IS NULL OR e.worker_id = p_worker_id) AND (p_api_key_id IS NULL OR e.api_key_id = p_api_key_id)
                          ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.idempotency_key DESC
                          LIMIT 1) c
                    UNION ALL
                    SELECT e.occurred_at, 1, e.recorded_at, e.idempotency_key, e.amount
                    FROM usage_events e
                    WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to
                      AND (p_worker_id IS NULL OR e.worker_id = p_worker_id) AND (p_api_key_id IS NULL OR e.api_key_id = p_api_key_id)
                ) p
            ) s;
        ELSIF v_aggregation = 'latest' THEN
            SELECT e.amount INTO v_result
            FROM usage_events e
            WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to
              AND (p_worker_id IS NULL OR e.worker_id = p_worker_id) AND (p_api_key_id IS NULL OR e.api_key_id = p_api_key_id)
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
            WHERE e.tenant_id = p_tenant_id AND e.meter = p_meter AND e.occurred_at >= p_from AND e.occurred_at < p_to
              AND (p_worker_id IS NULL OR e.worker_id = p_worker_id) AND (p_api_key_id IS NULL OR e.api_key_id = p_api_key_id);
        END IF;
        RETURN trim_scale(coalesce(v_result, 0));
    END
    $$;
GRANT EXECUTE ON FUNCTION usage_meter_value(uuid, text, timestamptz, timestamptz, text, uuid) TO platform_app, platform_xt;
