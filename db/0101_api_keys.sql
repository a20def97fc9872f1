-- API keys: only the SHA-256 of the secret and a short display prefix are stored.
-- tenants.api_keys_active counts live (unrevoked) keys, so max_api_keys is admitted with one conditional update.

ALTER TABLE tenants ADD COLUMN api_keys_active integer NOT NULL DEFAULT 0 CHECK (api_keys_active >= 0);

CREATE TABLE api_keys (
    tenant_id           uuid        NOT NULL REFERENCES tenants (id),
    id                  uuid        NOT NULL,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix              text        NOT NULL CHECK (length(prefix) BETWEEN 8 AND 32),
    key_hash            bytea       NOT NULL CHECK (octet_length(key_hash) = 32),
    permissions         text[]      NOT NULL,
    allowed_workers     text[],
    rate_limit_rpm      integer     CHECK (rate_limit_rpm > 0),
    max_concurrent_runs integer     CHECK (max_concurrent_runs > 0),
    active_runs         integer     NOT NULL DEFAULT 0 CHECK (active_runs >= 0),
    expires_at          timestamptz,
    created_by          uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    last_used_at        timestamptz,
    total_requests      bigint      NOT NULL DEFAULT 0 CHECK (total_requests >= 0),
    revoked_at          timestamptz,
    revoked_reason      text        CHECK (length(revoked_reason) <= 500),
    frozen_at           timestamptz,
    frozen_reason       text        CHECK (length(frozen_reason) <= 500),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_keys_hash_key UNIQUE (tenant_id, key_hash)
);
-- The cross-tenant lookup by hash (api_key_by_hash) uses this index; hashes of 256-bit secrets do not collide.
CREATE INDEX api_keys_hash_idx ON api_keys (key_hash);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- As in 0001: these hold only while a platform_xt-owned function runs, not for platform_owner (a member of platform_xt).
CREATE POLICY cross_tenant_read ON api_keys FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY cross_tenant_usage ON api_keys FOR UPDATE TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');

GRANT SELECT, INSERT, UPDATE ON api_keys TO platform_app;
GRANT SELECT, UPDATE (last_used_at, total_requests) ON api_keys TO platform_xt;

-- Per-key fixed one-minute windows for rate_limit_rpm, shared by every API instance.
CREATE TABLE api_key_rate_windows (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    key_id        uuid        NOT NULL,
    window_start  timestamptz NOT NULL,
    request_count integer     NOT NULL CHECK (request_count >= 0),
    PRIMARY KEY (tenant_id, key_id),
    FOREIGN KEY (tenant_id, key_id) REFERENCES api_keys (tenant_id, id)
);

ALTER TABLE api_key_rate_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_key_rate_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_key_rate_windows
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON api_key_rate_windows TO platform_app;

-- The explicitly named cross-tenant paths of API keys.

-- Finds a key by the SHA-256 of its secret before the tenant is known (authentication).
CREATE FUNCTION api_key_by_hash(p_hash bytea)
    RETURNS TABLE (
        tenant_id uuid, id uuid, permissions text[], allowed_workers text[], rate_limit_rpm integer,
        max_concurrent_runs integer, expires_at timestamptz, revoked_at timestamptz, frozen_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.tenant_id, k.id, k.permissions, k.allowed_workers, k.rate_limit_rpm,
               k.max_concurrent_runs, k.expires_at, k.revoked_at, k.frozen_at
        FROM api_keys k
        WHERE k.key_hash = p_hash
    $$;

-- Adds batched request counts and last-use times to keys of any tenant (the in-memory usage flush).
CREATE FUNCTION record_api_key_usage(p_tenant_ids uuid[], p_key_ids uuid[], p_counts bigint[], p_last_used timestamptz[])
    RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH batch AS (
            SELECT t.tenant_id, t.key_id, t.n, t.last_used
            FROM unnest(p_tenant_ids, p_key_ids, p_counts, p_last_used) AS t (tenant_id, key_id, n, last_used)
        ), updated AS (
            UPDATE api_keys k
            SET total_requests = k.total_requests + b.n,
                last_used_at = greatest(k.last_used_at, b.last_used)
            FROM batch b
            WHERE k.tenant_id = b.tenant_id AND k.id = b.key_id
            RETURNING 1
        )
        SELECT count(*)::integer FROM updated
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION api_key_by_hash(bytea) OWNER TO platform_xt;
ALTER FUNCTION record_api_key_usage(uuid[], uuid[], bigint[], timestamptz[]) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION api_key_by_hash(bytea), record_api_key_usage(uuid[], uuid[], bigint[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_by_hash(bytea), record_api_key_usage(uuid[], uuid[], bigint[], timestamptz[]) TO platform_app;

-- Finds the tenant of a key by the key's id alone (operator console: freeze or unfreeze a key named by id).
CREATE INDEX api_keys_id_idx ON api_keys (id);

CREATE FUNCTION api_key_tenant_id(p_key_id uuid)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT k.tenant_id FROM api_keys k WHERE k.id = p_key_id $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION api_key_tenant_id(uuid) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION api_key_tenant_id(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_key_tenant_id(uuid) TO platform_app;
