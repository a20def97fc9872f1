-- Invitations to join a tenant, and the generic outbox that carries their email (webhooks will share it later).

CREATE TABLE invitations (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    email       citext      NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
    -- 'expired' is never stored: a pending row past expires_at reads as expired.
    status      text        NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
    invited_by  uuid,
    expires_at  timestamptz NOT NULL,
    accepted_by uuid,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    sent_count  integer     NOT NULL DEFAULT 1 CHECK (sent_count >= 1),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invitations_token_hash_key UNIQUE (tenant_id, token_hash)
);
-- The accept path finds an invitation by its token hash before the tenant is known.
CREATE INDEX invitations_token_hash_idx ON invitations (token_hash);
CREATE INDEX invitations_pending_idx ON invitations (tenant_id, expires_at) WHERE status = 'pending';

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- Like 0001's: holds only while a platform_xt-owned function runs, not for platform_owner (a member of platform_xt).
CREATE POLICY cross_tenant_read ON invitations FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE ON invitations TO platform_app;
GRANT SELECT ON invitations TO platform_xt;

-- One outgoing message (an email today, a webhook delivery later). tenant_id is null for platform-wide messages.
-- Dispatchers lease due rows through claim_outbox_messages (FOR UPDATE SKIP LOCKED), so any number may run.
CREATE TABLE outbox_messages (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        REFERENCES tenants (id),
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    payload         jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX outbox_messages_due_idx ON outbox_messages (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_messages_tenant_idx ON outbox_messages (tenant_id, created_at) WHERE tenant_id IS NOT NULL;

ALTER TABLE outbox_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_messages FORCE ROW LEVEL SECURITY;
-- A tenant session sees and writes only its own messages; a session without a tenant may write platform-wide ones.
CREATE POLICY tenant_isolation ON outbox_messages
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id IS NOT DISTINCT FROM app_tenant_id());
CREATE POLICY dispatcher_read ON outbox_messages FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY dispatcher_update ON outbox_messages FOR UPDATE TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT ON outbox_messages TO platform_app;
GRANT SELECT, UPDATE ON outbox_messages TO platform_xt;

-- Cross-tenant paths, owned by platform_xt.

-- The tenant and id of the invitation holding a token hash, or no row.
CREATE FUNCTION invitation_by_token_hash(p_token_hash bytea)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT i.tenant_id, i.id FROM invitations i WHERE i.token_hash = p_token_hash $$;

-- Leases up to p_limit due messages whose kind starts with p_kind_prefix (one dispatcher per channel) for p_lease_seconds: counts the attempt and moves next_attempt_at past the lease,
-- so a crashed dispatcher's messages come due again. Concurrent callers skip each other's rows.
CREATE FUNCTION claim_outbox_messages(p_kind_prefix text, p_now timestamptz, p_lease_seconds integer, p_limit integer)
    RETURNS TABLE (id uuid, tenant_id uuid, kind text, payload text, attempts integer, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        UPDATE outbox_messages o
        SET attempts = o.attempts + 1,
            next_attempt_at = p_now + make_interval(secs => p_lease_seconds)
        WHERE o.id IN (
            SELECT d.id FROM outbox_messages d
            WHERE d.status = 'pending' AND d.next_attempt_at <= p_now AND starts_with(d.kind, p_kind_prefix)
            ORDER BY d.next_attempt_at, d.id
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.tenant_id, o.kind, o.payload::text, o.attempts, o.created_at
    $$;

-- Records the outcome of one leased attempt; ignored (false) when the lease was lost to another dispatcher.
-- p_status: 'sent', 'pending' (retry at p_next_attempt_at) or 'failed' (gave up).
CREATE FUNCTION finish_outbox_attempt(p_id uuid, p_attempt integer, p_status text, p_error text,
                                      p_next_attempt_at timestamptz, p_now timestamptz)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH done AS (
            UPDATE outbox_messages o
            SET status = p_status,
                last_error = CASE WHEN p_status = 'sent' THEN o.last_error ELSE left(p_error, 2000) END,
                next_attempt_at = coalesce(p_next_attempt_at, o.next_attempt_at),
                sent_at = CASE WHEN p_status = 'sent' THEN p_now END
            WHERE o.id = p_id AND o.attempts = p_attempt AND o.status = 'pending'
              AND p_status IN ('sent', 'pending', 'failed')
            RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM done)
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION invitation_by_token_hash(bytea) OWNER TO platform_xt;
ALTER FUNCTION claim_outbox_messages(text, timestamptz, integer, integer) OWNER TO platform_xt;
ALTER FUNCTION finish_outbox_attempt(uuid, integer, text, text, timestamptz, timestamptz) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION invitation_by_token_hash(bytea), claim_outbox_messages(text, timestamptz, integer, integer),
    finish_outbox_attempt(uuid, integer, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invitation_by_token_hash(bytea), claim_outbox_messages(text, timestamptz, integer, integer),
    finish_outbox_attempt(uuid, integer, text, text, timestamptz, timestamptz) TO platform_app;
