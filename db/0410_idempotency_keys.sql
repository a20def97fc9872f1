-- Idempotency-Key records of the POSTs that create or charge (docs/decisions/0190-*): the first request with a key claims it
-- with one conditional upsert and commits at once, so a concurrent duplicate sees it in flight (409); its outcome is then stored
-- and replayed to every later request with the same key and the same fingerprint (SHA-256 of method, route and canonical body).
-- Keys belong to a tenant and a caller (a user or an API key); the same key from two callers is two keys.
CREATE TABLE idempotency_keys (
    tenant_id                uuid        NOT NULL REFERENCES tenants (id),
    caller_id                uuid        NOT NULL,
    key                      text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint              bytea       NOT NULL CHECK (length(fingerprint) = 32),
    state                    text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    claim_id                 uuid        NOT NULL,
    lease_until              timestamptz NOT NULL,
    status_code              integer     CHECK (status_code BETWEEN 100 AND 599),
    response_headers         jsonb,
    -- Data Protection ciphertext: some responses show a secret once (an API key, an invitation token, a client secret).
    response_body_encrypted  bytea,
    created_at               timestamptz NOT NULL,
    completed_at             timestamptz,
    -- Set in the transaction of the request's effect: a record with it is never run again, only replayed (ADR 0190).
    effect_committed_at      timestamptz,
    expires_at               timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, caller_id, key),
    CHECK ((state = 'completed') = (status_code IS NOT NULL))
);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO platform_app;

-- POST /v1/tenants and POST /v1/invitations/accept act outside any tenant: their keys belong to the signed-in user.
CREATE TABLE user_idempotency_keys (
    user_id                  uuid        NOT NULL,
    key                      text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint              bytea       NOT NULL CHECK (length(fingerprint) = 32),
    state                    text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    claim_id                 uuid        NOT NULL,
    lease_until              timestamptz NOT NULL,
    status_code              integer     CHECK (status_code BETWEEN 100 AND 599),
    response_headers         jsonb,
    response_body_encrypted  bytea,
    created_at               timestamptz NOT NULL,
    completed_at             timestamptz,
    effect_committed_at      timestamptz,
    expires_at               timestamptz NOT NULL,
    PRIMARY KEY (user_id, key),
    CHECK ((state = 'completed') = (status_code IS NOT NULL))
);
COMMENT ON TABLE user_idempotency_keys IS
    'global: Idempotency-Key records of the signed-in user''s requests outside any tenant (tenant creation, invitation acceptance); like users, a reference table under Citus';
ALTER TABLE user_idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY own_keys ON user_idempotency_keys
    USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
CREATE INDEX user_idempotency_keys_expires_idx ON user_idempotency_keys (expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_idempotency_keys TO platform_app;

-- The retention job's one cross-tenant step: delete up to p_limit expired records of each table. It runs as platform_xt, whose
-- policies below hold only while such a function runs (as the cross_tenant_read policies of db/0001).
CREATE POLICY cross_tenant_purge ON idempotency_keys FOR ALL TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
CREATE POLICY cross_user_purge ON user_idempotency_keys FOR ALL TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, DELETE ON idempotency_keys, user_idempotency_keys TO platform_xt;

CREATE FUNCTION purge_expired_idempotency_keys(p_before timestamptz, p_limit integer)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_tenant integer;
        v_user integer;
    BEGIN
        DELETE FROM idempotency_keys k
        USING (SELECT tenant_id, caller_id, key FROM idempotency_keys
               WHERE expires_at < p_before ORDER BY expires_at LIMIT p_limit) doomed
        WHERE k.tenant_id = doomed.tenant_id AND k.caller_id = doomed.caller_id AND k.key = doomed.key;
        GET DIAGNOSTICS v_tenant = ROW_COUNT;
        DELETE FROM user_idempotency_keys k
        USING (SELECT user_id, key FROM user_idempotency_keys
               WHERE expires_at < p_before ORDER BY expires_at LIMIT p_limit) doomed
        WHERE k.user_id = doomed.user_id AND k.key = doomed.key;
        GET DIAGNOSTICS v_user = ROW_COUNT;
        RETURN v_tenant + v_user;
    END
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION purge_expired_idempotency_keys(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION purge_expired_idempotency_keys(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_expired_idempotency_keys(timestamptz, integer) TO platform_app;
