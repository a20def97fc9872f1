-- Webhook delivery (issue 11, ADR 0501): the dispatcher's cross-tenant paths. Claim leases due deliveries (FOR UPDATE SKIP
-- LOCKED) with what a request needs; finish records a batch of attempts in the delivery log and moves each delivery on
-- (sent, due again, failed), guarded by the attempt number so a lost lease never overwrites; retention and the operator's
-- stats read and trim across tenants.

-- A delivery put back in the queue by a tenant (manual retry, recover) after it was sent or had failed gets one more attempt
-- only: a failure sends it straight back to failed. The trigger notes the requeue; the service role itself may only set
-- status, next_attempt_at and last_error (0500), so it cannot forge or clear the mark.
ALTER TABLE outbox_messages ADD COLUMN webhook_requeued boolean NOT NULL DEFAULT false;

CREATE FUNCTION outbox_note_webhook_requeue() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        NEW.webhook_requeued := true;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER outbox_webhook_requeue BEFORE UPDATE OF status ON outbox_messages
    FOR EACH ROW WHEN (OLD.kind = 'webhook' AND OLD.status IN ('sent', 'failed') AND NEW.status = 'pending')
    EXECUTE FUNCTION outbox_note_webhook_requeue();

-- The claim's order (event order per endpoint: emission time, then the UUIDv7 event id) straight from an index.
CREATE INDEX outbox_messages_webhook_due_idx ON outbox_messages (next_attempt_at, event_id)
    WHERE status = 'pending' AND kind = 'webhook';

-- Per-endpoint rate limit: a fixed one-second window of claimed deliveries (see ADR 0501 for its precision).
ALTER TABLE webhook_endpoints
    ADD COLUMN rate_window_start timestamptz,
    ADD COLUMN rate_window_count integer NOT NULL DEFAULT 0 CHECK (rate_window_count >= 0);

-- Leases up to p_limit due webhook deliveries for p_lease_seconds (attempts + 1, next_attempt_at past the lease, so a crashed
-- dispatcher's deliveries come due again) and returns what the request needs. Due deliveries of a disabled endpoint fail here
-- without an attempt (but the test message, which is sent even to a disabled endpoint); deliveries over an endpoint's rate
-- limit are moved to the end of its current one-second window without an attempt.
CREATE FUNCTION claim_webhook_deliveries(p_now timestamptz, p_lease_seconds integer, p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid, endpoint_id uuid, event_id uuid, attempts integer, requeued boolean, url text,
                   headers text, secret text, previous_secret text, payload text, event_created_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    #variable_conflict use_column
    DECLARE
        v_ids uuid[];
    BEGIN
        SELECT coalesce(array_agg(c.id), '{}') INTO v_ids FROM (
            SELECT d.id FROM outbox_messages d
            WHERE d.status = 'pending' AND d.kind = 'webhook' AND d.next_attempt_at <= p_now
            ORDER BY d.next_attempt_at, d.event_id
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED) c;
        IF cardinality(v_ids) = 0 THEN
            RETURN;
        END IF;

        UPDATE outbox_messages o
        SET status = 'failed', webhook_requeued = false,
            last_error = 'The endpoint is disabled: nothing was sent. Recover its deliveries after enabling it.'
        FROM webhook_endpoints e, webhook_events ev
        WHERE o.id = ANY (v_ids) AND e.tenant_id = o.tenant_id AND e.id = o.endpoint_id AND NOT e.enabled
          AND ev.tenant_id = o.tenant_id AND ev.id = o.event_id AND ev.type <> 'webhook.test';

        -- Rate-limited endpoints are locked in one order, so that concurrent claims count one window between them. NO KEY UPDATE:
        -- the key-share locks that inserting deliveries and attempts take on their endpoint must not conflict (they would deadlock).
        PERFORM 1 FROM webhook_endpoints e
        WHERE e.rate_limit IS NOT NULL
          AND (e.tenant_id, e.id) IN (SELECT o.tenant_id, o.endpoint_id FROM outbox_messages o WHERE o.id = ANY (v_ids))
        ORDER BY e.tenant_id, e.id
        FOR NO KEY UPDATE OF e;

        RETURN QUERY
        WITH cand AS (
            SELECT o.id, o.tenant_id, o.endpoint_id, e.rate_limit,
                   CASE WHEN e.rate_window_start > p_now - interval '1 second' THEN e.rate_window_count ELSE 0 END AS used,
                   CASE WHEN e.rate_window_start > p_now - interval '1 second' THEN e.rate_window_start ELSE p_now END AS window_start,
                   row_number() OVER (PARTITION BY o.tenant_id, o.endpoint_id ORDER BY o.next_attempt_at, o.event_id) AS rn
            FROM outbox_messages o
            JOIN webhook_endpoints e ON e.tenant_id = o.tenant_id AND e.id = o.endpoint_id
            WHERE o.id = ANY (v_ids) AND o.status = 'pending'
        ), allowed AS (
            SELECT c.* FROM cand c WHERE c.rate_limit IS NULL OR c.rn <= c.rate_limit - c.used
        ), deferred AS (
            UPDATE outbox_messages o SET next_attempt_at = c.window_start + interval '1 second'
            FROM cand c
            WHERE o.id = c.id AND c.rate_limit IS NOT NULL AND c.rn > c.rate_limit - c.used
            RETURNING 1
        ), windows AS (
            UPDATE webhook_endpoints e SET rate_window_start = a.window_start, rate_window_count = a.used + a.n
            FROM (SELECT al.tenant_id, al.endpoint_id, min(al.window_start) AS window_start, min(al.used) AS used, count(*)::integer AS n
                  FROM allowed al WHERE al.rate_limit IS NOT NULL GROUP BY al.tenant_id, al.endpoint_id) a
            WHERE e.tenant_id = a.tenant_id AND e.id = a.endpoint_id
            RETURNING 1
        ), leased AS (
            UPDATE outbox_messages o
            SET attempts = o.attempts + 1, next_attempt_at = p_now + make_interval(secs => p_lease_seconds)
            FROM allowed a
            WHERE o.id = a.id
            RETURNING o.id, o.tenant_id, o.endpoint_id, o.event_id, o.attempts, o.webhook_requeued
        )
        SELECT l.id, l.tenant_id, l.endpoint_id, l.event_id, l.attempts, l.webhook_requeued, e.url, e.headers::text, e.secret,
               CASE WHEN e.previous_secret_expires_at > p_now THEN e.previous_secret END, ev.payload::text, ev.created_at
        FROM leased l
        JOIN webhook_endpoints e ON e.tenant_id = l.tenant_id AND e.id = l.endpoint_id
        JOIN webhook_events ev ON ev.tenant_id = l.tenant_id AND ev.id = l.event_id
        ORDER BY ev.created_at, ev.id;
    END
    $$;

-- Records a batch of attempts (a JSON array of {delivery_id, attempt, succeeded, status_code, latency_ms, excerpt, error,
-- attempted_at, next_attempt_at}) and moves each delivery on: sent on success; on failure due again at next_attempt_at, or
-- failed when it is null (the schedule is used up) or the delivery was requeued by hand. An attempt whose lease was lost
-- (attempts moved on, or the delivery is no longer pending) is ignored. Sets or clears each endpoint's failing_since, and
-- returns the enabled endpoints that have failed without a success since before p_disable_before (to disable).
CREATE FUNCTION finish_webhook_attempts(p_results jsonb, p_disable_before timestamptz)
    RETURNS TABLE (tenant_id uuid, endpoint_id uuid, failing_since timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    #variable_conflict use_column
    DECLARE
        v_ids uuid[];
        v_tenants uuid[];
        v_endpoints uuid[];
        v_ok boolean[];
        v_first_fail timestamptz[];
    BEGIN
        -- The ids first, so that the update below finds its rows by primary key whatever the planner guesses of the JSON.
        SELECT coalesce(array_agg(x.delivery_id), '{}') INTO v_ids FROM jsonb_to_recordset(p_results) AS x(delivery_id uuid);
        WITH r AS (
            SELECT * FROM jsonb_to_recordset(p_results) AS x(delivery_id uuid, attempt integer, succeeded boolean, status_code integer,
                latency_ms integer, excerpt text, error text, attempted_at timestamptz, next_attempt_at timestamptz)
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
            WHERE o.id = ANY (v_ids) AND o.id = r.delivery_id AND o.attempts = r.attempt AND o.status = 'pending' AND o.kind = 'webhook'
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

        -- Endpoints whose failing_since changes, locked in one order (concurrent finishers would otherwise deadlock); NO KEY UPDATE does
        -- not wait for the key-share locks the attempts inserted above (and by other finishers) hold on their endpoints.
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

-- Purges, in batches of at most p_limit rows per table, the delivery log's attempts, finished deliveries (with their attempts)
-- and events without a pending delivery, all older than p_before; returns how many of each went.
CREATE FUNCTION purge_webhook_log(p_before timestamptz, p_limit integer)
    RETURNS TABLE (attempts integer, deliveries integer, events integer)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    #variable_conflict use_column
    DECLARE
        v_attempts integer;
        v_deliveries integer;
        v_events integer;
    BEGIN
        DELETE FROM webhook_attempts a
        WHERE a.id IN (SELECT x.id FROM webhook_attempts x WHERE x.attempted_at < p_before LIMIT p_limit);
        GET DIAGNOSTICS v_attempts = ROW_COUNT;

        DELETE FROM outbox_messages o
        WHERE o.id IN (SELECT x.id FROM outbox_messages x
                       WHERE x.kind = 'webhook' AND x.status IN ('sent', 'failed') AND x.created_at < p_before LIMIT p_limit);
        GET DIAGNOSTICS v_deliveries = ROW_COUNT;

        DELETE FROM webhook_events ev
        WHERE (ev.tenant_id, ev.id) IN (
            SELECT x.tenant_id, x.id FROM webhook_events x
            WHERE x.created_at < p_before
              AND NOT EXISTS (SELECT 1 FROM outbox_messages o
                              WHERE o.tenant_id = x.tenant_id AND o.event_id = x.id AND o.status = 'pending')
            LIMIT p_limit);
        GET DIAGNOSTICS v_events = ROW_COUNT;

        RETURN QUERY SELECT v_attempts, v_deliveries, v_events;
    END
    $$;

-- The operator's figures since p_since, across tenants: attempts (all, succeeded, failed) and their latency p50/p99; the
-- deliveries created since then by status; and the whole pending backlog with the age of its oldest due delivery.
CREATE FUNCTION webhook_delivery_stats(p_since timestamptz, p_now timestamptz)
    RETURNS TABLE (attempted bigint, succeeded bigint, failed bigint, latency_p50_ms double precision, latency_p99_ms double precision,
                   deliveries_pending bigint, deliveries_succeeded bigint, deliveries_failed bigint,
                   backlog bigint, backlog_due bigint, oldest_due_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT a.attempted, a.succeeded, a.failed, a.p50, a.p99, d.pending, d.sent, d.failed, b.backlog, b.due, b.oldest
        FROM (SELECT count(*) AS attempted, count(*) FILTER (WHERE x.succeeded) AS succeeded, count(*) FILTER (WHERE NOT x.succeeded) AS failed,
                     percentile_cont(0.5) WITHIN GROUP (ORDER BY x.latency_ms) AS p50,
                     percentile_cont(0.99) WITHIN GROUP (ORDER BY x.latency_ms) AS p99
              FROM webhook_attempts x WHERE x.attempted_at >= p_since) a,
             (SELECT count(*) FILTER (WHERE o.status = 'pending') AS pending, count(*) FILTER (WHERE o.status = 'sent') AS sent,
                     count(*) FILTER (WHERE o.status = 'failed') AS failed
              FROM outbox_messages o WHERE o.kind = 'webhook' AND o.created_at >= p_since) d,
             (SELECT count(*) AS backlog, count(*) FILTER (WHERE o.next_attempt_at <= p_now) AS due,
                     extract(epoch FROM p_now - min(o.next_attempt_at) FILTER (WHERE o.next_attempt_at <= p_now))::double precision AS oldest
              FROM outbox_messages o WHERE o.kind = 'webhook' AND o.status = 'pending') b
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION claim_webhook_deliveries(timestamptz, integer, integer) OWNER TO platform_xt;
ALTER FUNCTION finish_webhook_attempts(jsonb, timestamptz) OWNER TO platform_xt;
ALTER FUNCTION purge_webhook_log(timestamptz, integer) OWNER TO platform_xt;
ALTER FUNCTION webhook_delivery_stats(timestamptz, timestamptz) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION claim_webhook_deliveries(timestamptz, integer, integer), finish_webhook_attempts(jsonb, timestamptz),
    purge_webhook_log(timestamptz, integer), webhook_delivery_stats(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_webhook_deliveries(timestamptz, integer, integer), finish_webhook_attempts(jsonb, timestamptz),
    purge_webhook_log(timestamptz, integer), webhook_delivery_stats(timestamptz, timestamptz) TO platform_app;
