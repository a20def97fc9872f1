-- Account flows (issue 12, docs/decisions/0530-*): lasting sessions with rotating refresh tokens, one-time account tokens
-- (email verification, password reset) and the user-level security events that the tenant-only audit log cannot hold.
-- Every secret is stored as its SHA-256 only. Rows belong to a user (RLS user_id = app_user_id()); the anonymous paths
-- (refresh, verify, reset) go through platform_xt-owned SECURITY DEFINER functions that find a row by a token hash only.

-- The avatar of PATCH /v1/me (0001 has name, preferences and default_tenant_id, not this one).
ALTER TABLE users ADD COLUMN avatar_url text CHECK (avatar_url ~ '^https://' AND length(avatar_url) <= 2048);

-- One signed-in session (a device): its current refresh token's hash and the one it replaced, kept to detect reuse.
CREATE TABLE user_sessions (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id),
    refresh_hash  bytea       NOT NULL CHECK (length(refresh_hash) = 32),
    previous_hash bytea       CHECK (length(previous_hash) = 32),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    user_agent    text        CHECK (length(user_agent) <= 512),
    ip            text        CHECK (length(ip) <= 64),
    revoked_at    timestamptz,
    revoked_reason text       CHECK (length(revoked_reason) <= 40)
);
COMMENT ON TABLE user_sessions IS 'global: a user''s signed-in sessions, not tenant data (a reference table under Citus)';
CREATE UNIQUE INDEX user_sessions_refresh_idx ON user_sessions (refresh_hash);
CREATE INDEX user_sessions_previous_idx ON user_sessions (previous_hash) WHERE previous_hash IS NOT NULL;
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, created_at DESC);

ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY own_sessions ON user_sessions USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
CREATE POLICY by_token ON user_sessions TO platform_xt USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE ON user_sessions TO platform_app;
GRANT SELECT, UPDATE ON user_sessions TO platform_xt;

-- One-time tokens sent by email: verify_email (24 h) and reset_password (1 h).
CREATE TABLE account_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    uuid        NOT NULL REFERENCES users (id),
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
COMMENT ON TABLE account_tokens IS 'global: hashed one-time email tokens of users, not tenant data';
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);
ALTER TABLE account_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY own_tokens ON account_tokens USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
CREATE POLICY by_token ON account_tokens TO platform_xt USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE ON account_tokens TO platform_app;
GRANT SELECT, UPDATE ON account_tokens TO platform_xt;

-- Security events of a user (password changed or reset, sessions revoked, email verified): the audit log is per tenant.
CREATE TABLE account_events (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id),
    action      text        NOT NULL CHECK (action ~ '^[a-z_.]{1,60}$'),
    session_id  uuid,
    ip          text        CHECK (length(ip) <= 64),
    user_agent  text        CHECK (length(user_agent) <= 512),
    occurred_at timestamptz NOT NULL
);
COMMENT ON TABLE account_events IS 'global: a user''s own security events, not tenant data';
CREATE INDEX account_events_user_idx ON account_events (user_id, occurred_at DESC);
ALTER TABLE account_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_events FORCE ROW LEVEL SECURITY;
CREATE POLICY own_events ON account_events USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
GRANT SELECT, INSERT ON account_events TO platform_app;

-- Rotates a refresh token in one statement under the session row's lock (ADR 0530). Outcomes:
-- 'rotated' (the token was current: the new hash replaces it), 'reused' (the token was the previous one: the session is
-- revoked, OAuth 2.0 Security BCP), 'expired' (idle or absolute limit passed, or the user is no longer active: revoked),
-- 'unknown' (no session holds it, or it is revoked). A racing second use of one token waits for the first's row lock, then
-- finds it as the previous hash: exactly one wins and the session is revoked.
CREATE FUNCTION rotate_refresh_token(p_hash bytea, p_new_hash bytea, p_now timestamptz, p_idle_seconds integer)
    RETURNS TABLE (outcome text, session_id uuid, user_id uuid)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        s user_sessions%ROWTYPE;
        active boolean;
    BEGIN
        SELECT * INTO s FROM user_sessions us WHERE us.refresh_hash = p_hash FOR UPDATE;
        IF NOT FOUND THEN
            SELECT * INTO s FROM user_sessions us WHERE us.previous_hash = p_hash FOR UPDATE;
            IF NOT FOUND OR s.revoked_at IS NOT NULL THEN
                RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::uuid;
                RETURN;
            END IF;
            UPDATE user_sessions us SET revoked_at = p_now, revoked_reason = 'refresh_token_reused' WHERE us.id = s.id;
            RETURN QUERY SELECT 'reused'::text, s.id, s.user_id;
            RETURN;
        END IF;
        IF s.revoked_at IS NOT NULL THEN
            RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::uuid;
            RETURN;
        END IF;
        SELECT u.status = 'active' INTO active FROM users u WHERE u.id = s.user_id;
        IF s.expires_at <= p_now OR s.last_used_at + make_interval(secs => p_idle_seconds) <= p_now OR active IS NOT TRUE THEN
            UPDATE user_sessions us SET revoked_at = p_now, revoked_reason = 'expired' WHERE us.id = s.id;
            RETURN QUERY SELECT 'expired'::text, s.id, s.user_id;
            RETURN;
        END IF;
        UPDATE user_sessions us SET previous_hash = us.refresh_hash, refresh_hash = p_new_hash, last_used_at = p_now WHERE us.id = s.id;
        RETURN QUERY SELECT 'rotated'::text, s.id, s.user_id;
    END
    $$;

-- The session and user of a live refresh token, for logout by token; no row for an unknown or revoked one.
CREATE FUNCTION session_by_refresh_hash(p_hash bytea)
    RETURNS TABLE (session_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT s.id, s.user_id FROM user_sessions s WHERE s.refresh_hash = p_hash AND s.revoked_at IS NULL $$;

-- Uses a one-time token: marks it used if it is unused, unexpired and of the purpose; returns its user, or no row.
-- Concurrent uses serialise on the row: exactly one gets the user.
CREATE FUNCTION use_account_token(p_hash bytea, p_purpose text, p_now timestamptz)
    RETURNS uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE account_tokens t SET used_at = p_now
        WHERE t.token_hash = p_hash AND t.purpose = p_purpose AND t.used_at IS NULL AND t.expires_at > p_now
        RETURNING t.user_id
    $$;

GRANT SELECT ON users TO platform_xt;
GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION rotate_refresh_token(bytea, bytea, timestamptz, integer) OWNER TO platform_xt;
ALTER FUNCTION session_by_refresh_hash(bytea) OWNER TO platform_xt;
ALTER FUNCTION use_account_token(bytea, text, timestamptz) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION rotate_refresh_token(bytea, bytea, timestamptz, integer), session_by_refresh_hash(bytea),
    use_account_token(bytea, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rotate_refresh_token(bytea, bytea, timestamptz, integer), session_by_refresh_hash(bytea),
    use_account_token(bytea, text, timestamptz) TO platform_app;
