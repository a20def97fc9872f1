-- The keys used lately, with their hashes, for a starting instance to fill its key cache before it answers ready (ADR 0821): the first
-- request of each tenant after a start otherwise looks its key up in a session of its own while it holds an admission slot. The cache
-- holds these same hash -> credentials pairs in memory once a key is used; the SHA-256 of a 256-bit secret does not authenticate anyone.
-- Only keys that could authenticate now (not revoked, frozen or expired), most recently used first. No index on last_used_at: the usage
-- flush updates it every second for every key in use, and an index on it would take those updates off the heap-only path; this is read
-- once per start.
CREATE FUNCTION api_keys_used_since(p_since timestamptz, p_limit integer)
    RETURNS TABLE (
        key_hash bytea, tenant_id uuid, id uuid, permissions text[], allowed_workers text[], rate_limit_rpm integer,
        max_concurrent_runs integer, expires_at timestamptz, revoked_at timestamptz, frozen_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.key_hash, k.tenant_id, k.id, k.permissions, k.allowed_workers, k.rate_limit_rpm,
               k.max_concurrent_runs, k.expires_at, k.revoked_at, k.frozen_at
        FROM api_keys k
        WHERE k.last_used_at >= p_since AND k.revoked_at IS NULL AND k.frozen_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
        ORDER BY k.last_used_at DESC
        LIMIT greatest(p_limit, 0)
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION api_keys_used_since(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION api_keys_used_since(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api_keys_used_since(timestamptz, integer) TO platform_app;
