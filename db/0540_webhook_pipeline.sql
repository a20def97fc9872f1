-- Webhook delivery as a pipeline (issue 11, ADR 0540): a NOTIFY wakes the dispatchers when deliveries are written, and the
-- finisher records a batch of outcomes from parallel arrays (unnest) instead of a JSON document.

-- Once per INSERT statement that wrote at least one pending webhook delivery: NOTIFY webhook_due, sent at commit (never for a
-- rolled-back emission). The payload is empty, so notifications of one transaction collapse into one, and the dispatchers
-- only learn "look now"; the claim decides what is due. Statement-level with a transition table: an emission of one event to
-- ten endpoints is one statement and one notification, not ten.
CREATE FUNCTION outbox_notify_webhook_due() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM new_rows n WHERE n.kind = 'webhook' AND n.status = 'pending') THEN
            PERFORM pg_notify('webhook_due', '');
        END IF;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER outbox_webhook_due AFTER INSERT ON outbox_messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_webhook_due();

-- Records a batch of attempts given as parallel arrays (one element per attempt) and moves each delivery on, exactly as
-- finish_webhook_attempts(jsonb) of 0501 did (which it replaces): sent on success; on failure due again at next_attempt_at,
-- or failed when that is null or the delivery was requeued by hand; an attempt whose lease was lost is ignored. Sets or
-- clears each endpoint's failing_since and returns the enabled endpoints failing since before p_disable_before.
CREATE FUNCTION finish_webhook_attempts(p_delivery_ids uuid[], p_attempts integer[], p_succeeded boolean[], p_status_codes integer[],
                                        p_latencies_ms integer[], p_excerpts text[], p_errors text[], p_attempted_at timestamptz[],
                                        p_next_attempt_at timestamptz[], p_disable_before timestamptz)
    RETURNS TABLE (tenant_id uuid, endpoint_id uuid, failing_since timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    #variable_conflict use_column
    DECLARE
        v_tenants uuid[];
        v_endpoints uuid[];
        v_ok boolean[];
        v_first_fail timestamptz[];
    BEGIN
        WITH r AS (
            SELECT * FROM unnest(p_delivery_ids, p_attempts, p_succeeded, p_status_codes, p_latencies_ms, p_excerpts, p_errors,
                                 p_attempted_at, p_next_attempt_at)
                AS x(delivery_id, attempt, succeeded, status_code, latency_ms, excerpt, error, attempted_at, next_attempt_at)
        ), done AS (
            UPDATE outbox_messages o
            SET status = CASE WHEN r.succeeded THEN 'sent'
                              WHEN r.next_attempt_at IS NULL OR o.webhook_requeued THEN 'failed'
                              ELSE 'pending' END,
                next_attempt_at = CASE WHEN NOT r.succeeded AND r.next_attempt_at IS NOT NULL AND NOT o.webhook_requeued
                                       THEN r.next_attempt_at ELSE o.next_attempt_at END,
                last_error = CASE WHEN r.succeeded THEN o.last_error ELSE left(r.error, 2000) END,
                sent_at = CASE WHEN r.succeeded THEN r.attempted_at ELSE o.sent_at END,
                webhook_requeued = false
            FROM r
            WHERE o.id = ANY (p_delivery_ids) AND o.id = r.delivery_id AND o.attempts = r.attempt AND o.status = 'pending' AND o.kind = 'webhook'
            RETURNING o.id, o.tenant_id, o.endpoint_id, o.event_id
        ), logged AS (
            INSERT INTO webhook_attempts (tenant_id, id, delivery_id, endpoint_id, event_id, attempt, attempted_at, succeeded,
                                          status_code, latency_ms, response_excerpt, error)
            SELECT d.tenant_id, gen_random_uuid(), d.id, d.endpoint_id, d.event_id, r.attempt, r.attempted_at, r.succeeded,
                   r.status_code, r.latency_ms, left(r.excerpt, 1024), left(r.error, 2000)
            FROM done d JOIN r ON r.delivery_id = d.id
            RETURNING tenant_id, endpoint_id, succeeded, attempted_at
        )
        SELECT array_agg(g.tenant_id), array_agg(g.endpoint_id), array_agg(g.any_ok), array_agg(g.first_fail)
        INTO v_tenants, v_endpoints, v_ok, v_first_fail
        FROM (SELECT l.tenant_id, l.endpoint_id, bool_or(l.succeeded) AS any_ok,
                     min(l.attempted_at) FILTER (WHERE NOT l.succeeded) AS first_fail
              FROM logged l GROUP BY l.tenant_id, l.endpoint_id) g;
        IF v_tenants IS NULL THEN
            RETURN;
        END IF;

        -- As in 0501: endpoints whose failing_since changes, locked in one order, NO KEY UPDATE.
        PERFORM 1 FROM webhook_endpoints e
        JOIN unnest(v_tenants, v_endpoints, v_ok, v_first_fail) AS f(tenant_id, endpoint_id, any_ok, first_fail) ON f.tenant_id = e.tenant_id AND f.endpoint_id = e.id
        WHERE (CASE WHEN f.any_ok THEN NULL ELSE coalesce(e.failing_since, f.first_fail) END) IS DISTINCT FROM e.failing_since
        ORDER BY e.tenant_id, e.id
        FOR NO KEY UPDATE OF e;

        UPDATE webhook_endpoints e
        SET failing_since = CASE WHEN f.any_ok THEN NULL ELSE coalesce(e.failing_since, f.first_fail) END
        FROM unnest(v_tenants, v_endpoints, v_ok, v_first_fail) AS f(tenant_id, endpoint_id, any_ok, first_fail)
        WHERE f.tenant_id = e.tenant_id AND f.endpoint_id = e.id
          AND (CASE WHEN f.any_ok THEN NULL ELSE coalesce(e.failing_since, f.first_fail) END) IS DISTINCT FROM e.failing_since;

        RETURN QUERY
        SELECT e.tenant_id, e.id, e.failing_since
        FROM webhook_endpoints e
        JOIN unnest(v_tenants, v_endpoints, v_ok, v_first_fail) AS f(tenant_id, endpoint_id, any_ok, first_fail) ON f.tenant_id = e.tenant_id AND f.endpoint_id = e.id
        WHERE e.enabled AND NOT f.any_ok AND e.failing_since < p_disable_before;
    END
    $$;

DROP FUNCTION finish_webhook_attempts(jsonb, timestamptz);

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION finish_webhook_attempts(uuid[], integer[], boolean[], integer[], integer[], text[], text[], timestamptz[], timestamptz[], timestamptz)
    OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION finish_webhook_attempts(uuid[], integer[], boolean[], integer[], integer[], text[], text[], timestamptz[], timestamptz[], timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finish_webhook_attempts(uuid[], integer[], boolean[], integer[], integer[], text[], text[], timestamptz[], timestamptz[], timestamptz)
    TO platform_app;
