-- Webhook delivery speed (issue 11's benchmark goal, ADR 0610). The lease of a claimed delivery was an UPDATE of
-- next_attempt_at, a column of two indexes of outbox_messages, so every claim wrote a new entry into each of its 7 indexes
-- (no HOT update): most of a claim's time. The lease now lives in its own column, leased_until, that no index and no
-- index predicate names; a claim changes only attempts and leased_until, which PostgreSQL writes as a heap-only (HOT)
-- update on the same page when there is room (fillfactor 50 keeps room on the pages deliveries are inserted into).
-- next_attempt_at keeps its meaning: when the delivery is due (first attempt, retry, rate-limit window); a delivery is
-- claimable when it is due and not leased (leased_until null or past). A crashed dispatcher's leases end as before.
ALTER TABLE outbox_messages ADD COLUMN leased_until timestamptz;
ALTER TABLE outbox_messages SET (fillfactor = 50);

-- The email dispatcher's due index held every pending webhook delivery too (it had no kind in its predicate), so each
-- email claim walked past the webhook backlog and each delivery wrote one more index entry. Emails only from now on.
DROP INDEX outbox_messages_due_idx;
CREATE INDEX outbox_messages_due_idx ON outbox_messages (next_attempt_at, id) WHERE status = 'pending' AND kind <> 'webhook';

-- As in 0200, with the kind condition that lets the claim use the emails-only index above (webhooks have their own claim).
CREATE OR REPLACE FUNCTION claim_outbox_messages(p_kind_prefix text, p_now timestamptz, p_lease_seconds integer, p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid, kind text, payload text, attempts integer, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox_messages o
        SET attempts = o.attempts + 1,
            next_attempt_at = p_now + make_interval(secs => p_lease_seconds)
        WHERE o.id IN (
            SELECT d.id FROM outbox_messages d
            WHERE d.status = 'pending' AND d.kind <> 'webhook' AND d.next_attempt_at <= p_now AND starts_with(d.kind, p_kind_prefix)
            ORDER BY d.next_attempt_at, d.id
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.tenant_id, o.kind, o.payload::text, o.attempts, o.created_at
    $$;

-- As in 0501, but the lease is leased_until (HOT) and only unleased due deliveries are claimed.
CREATE OR REPLACE FUNCTION claim_webhook_deliveries(p_now timestamptz, p_lease_seconds integer, p_limit integer)
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
              AND (d.leased_until IS NULL OR d.leased_until <= p_now)
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
            SET attempts = o.attempts + 1, leased_until = p_now + make_interval(secs => p_lease_seconds)
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

-- As in 0501, and the finished attempt's lease is released.
CREATE OR REPLACE FUNCTION finish_webhook_attempts(p_results jsonb, p_disable_before timestamptz)
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
                webhook_requeued = false,
                leased_until = NULL
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

-- As in 0501; a leased delivery is not due until its lease ends (it was, when the lease moved next_attempt_at).
CREATE OR REPLACE FUNCTION webhook_delivery_stats(p_since timestamptz, p_now timestamptz)
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
             (SELECT count(*) AS backlog, count(*) FILTER (WHERE greatest(o.next_attempt_at, o.leased_until) <= p_now) AS due,
                     extract(epoch FROM p_now - min(o.next_attempt_at)
                         FILTER (WHERE greatest(o.next_attempt_at, o.leased_until) <= p_now))::double precision AS oldest
              FROM outbox_messages o WHERE o.kind = 'webhook' AND o.status = 'pending') b
    $$;

-- CREATE OR REPLACE keeps each function's owner (platform_xt) and grants from 0200 and 0501.
