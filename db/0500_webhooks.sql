-- Outbound webhooks (issue 11, ADR 0500): a tenant's endpoints, the events Platform emits, and one delivery per
-- event and subscribed endpoint. Deliveries are rows of the one outbox (outbox_messages, kind 'webhook'), written in the
-- transaction of the change that caused the event, leased with FOR UPDATE SKIP LOCKED like the email's.

CREATE TABLE webhook_endpoints (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id),
    id               uuid        NOT NULL,
    url              text        NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description      text        NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- null: every event type; else the subscribed types (never empty).
    event_types      text[]      CHECK (event_types IS NULL OR cardinality(event_types) BETWEEN 1 AND 100),
    enabled          boolean     NOT NULL DEFAULT true,
    -- Deliveries per second to this endpoint; null: no limit of its own.
    rate_limit       integer     CHECK (rate_limit BETWEEN 1 AND 10000),
    -- Extra request headers, a JSON object of string values; names are validated by the engine.
    headers          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    -- The signing secret ('whsec_' + base64) protected with Data Protection; never returned after creation.
    secret           text        NOT NULL,
    -- After a rotation the former secret keeps signing (a second signature) until previous_secret_expires_at.
    previous_secret  text,
    previous_secret_expires_at timestamptz,
    -- Set at the first failed attempt after a success (or since creation), cleared by a success: drives auto-disable.
    failing_since    timestamptz,
    disabled_reason  text        CHECK (length(disabled_reason) <= 500),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One event (Svix: a message): its id is the webhook-id of every delivery and attempt of it.
CREATE TABLE webhook_events (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    type        text        NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$' AND length(type) <= 100),
    -- The body as sent: {"type", "timestamp", "data"}.
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_events_created_idx ON webhook_events (tenant_id, created_at);

-- A delivery is an outbox row of kind 'webhook' naming its event and endpoint; its attempts and lease are the outbox's.
ALTER TABLE outbox_messages
    ADD COLUMN endpoint_id uuid,
    ADD COLUMN event_id    uuid,
    ADD CONSTRAINT outbox_messages_webhook_shape CHECK (
        (kind = 'webhook') = (endpoint_id IS NOT NULL AND event_id IS NOT NULL AND tenant_id IS NOT NULL)),
    ADD CONSTRAINT outbox_messages_endpoint_fk FOREIGN KEY (tenant_id, endpoint_id)
        REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT outbox_messages_event_fk FOREIGN KEY (tenant_id, event_id)
        REFERENCES webhook_events (tenant_id, id) ON DELETE CASCADE;
CREATE INDEX outbox_messages_endpoint_idx ON outbox_messages (tenant_id, endpoint_id, created_at) WHERE endpoint_id IS NOT NULL;
CREATE INDEX outbox_messages_event_idx ON outbox_messages (tenant_id, event_id) WHERE event_id IS NOT NULL;

-- The delivery log: one row per attempt (the response excerpt is at most 1 KiB and never holds our secret).
CREATE TABLE webhook_attempts (
    tenant_id      uuid        NOT NULL,
    id             uuid        NOT NULL,
    delivery_id    uuid        NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
    endpoint_id    uuid        NOT NULL,
    event_id       uuid        NOT NULL,
    attempt        integer     NOT NULL CHECK (attempt >= 1),
    attempted_at   timestamptz NOT NULL,
    succeeded      boolean     NOT NULL,
    status_code    integer     CHECK (status_code BETWEEN 100 AND 999),
    latency_ms     integer     CHECK (latency_ms >= 0),
    response_excerpt text      CHECK (length(response_excerpt) <= 1024),
    error          text        CHECK (length(error) <= 2000),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (tenant_id, endpoint_id, attempted_at);
CREATE INDEX webhook_attempts_time_idx ON webhook_attempts (attempted_at);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON webhook_endpoints FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY dispatcher_update ON webhook_endpoints FOR UPDATE TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO platform_app;
GRANT SELECT, UPDATE ON webhook_endpoints TO platform_xt;

ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON webhook_events FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY retention_delete ON webhook_events FOR DELETE TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, INSERT ON webhook_events TO platform_app;
GRANT SELECT, DELETE ON webhook_events TO platform_xt;

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_attempts
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY dispatcher_write ON webhook_attempts FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');
CREATE POLICY cross_tenant_read ON webhook_attempts FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY retention_delete ON webhook_attempts FOR DELETE TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON webhook_attempts TO platform_app;
GRANT SELECT, INSERT, DELETE ON webhook_attempts TO platform_xt;

-- Retry and recovery put a tenant's own deliveries back in the queue; the service role may change no other outbox row
-- (restrictive: it narrows tenant_isolation, which alone would allow any of the tenant's rows).
CREATE POLICY webhook_requeue_only ON outbox_messages AS RESTRICTIVE FOR UPDATE TO platform_app
    USING (kind = 'webhook') WITH CHECK (kind = 'webhook');
GRANT UPDATE (status, next_attempt_at, last_error) ON outbox_messages TO platform_app;
CREATE POLICY retention_delete ON outbox_messages FOR DELETE TO platform_xt USING (current_user = 'platform_xt' AND kind = 'webhook');
GRANT DELETE ON outbox_messages TO platform_xt;

-- Emits events of many tenants at once, for work that runs outside any one tenant's session (the month's close issues a
-- batch of invoices in one transaction): the same rows as a tenant's own emission, one event and one delivery per
-- subscribed endpoint, none when no endpoint subscribes. p_events: [{tenant_id, id, type, payload, now}].
CREATE FUNCTION emit_webhook_events(p_events jsonb)
    RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH input AS (
            SELECT (e ->> 'tenant_id')::uuid AS tenant_id, (e ->> 'id')::uuid AS id, e ->> 'type' AS type,
                   (e ->> 'payload')::jsonb AS payload, (e ->> 'now')::timestamptz AS now
            FROM jsonb_array_elements(p_events) e
        ), targets AS (
            SELECT i.id AS event_id, w.id AS endpoint_id
            FROM input i JOIN webhook_endpoints w ON w.tenant_id = i.tenant_id
            WHERE w.enabled AND (w.event_types IS NULL OR i.type = ANY (w.event_types))
        ), ev AS (
            INSERT INTO webhook_events (tenant_id, id, type, payload, created_at)
            SELECT i.tenant_id, i.id, i.type, i.payload, i.now FROM input i
            WHERE EXISTS (SELECT 1 FROM targets t WHERE t.event_id = i.id)
            RETURNING tenant_id, id, created_at
        ), deliveries AS (
            INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at, endpoint_id, event_id)
            SELECT gen_random_uuid(), ev.tenant_id, 'webhook', '{}'::jsonb, 'pending', 0, ev.created_at, ev.created_at, t.endpoint_id, ev.id
            FROM ev JOIN targets t ON t.event_id = ev.id
            RETURNING 1
        )
        SELECT count(*)::integer FROM deliveries
    $$;

CREATE POLICY xt_emit ON webhook_events FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');
CREATE POLICY xt_emit ON outbox_messages FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt' AND kind = 'webhook');
GRANT INSERT ON webhook_events, outbox_messages TO platform_xt;
GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION emit_webhook_events(jsonb) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION emit_webhook_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION emit_webhook_events(jsonb) TO platform_app;
