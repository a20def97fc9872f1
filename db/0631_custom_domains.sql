-- Custom domains (issue 12, docs/decisions/0631-*): names a tenant proves it controls with a TXT record at _platform-challenge.<name>.
-- A name is unique across all tenants through the global registry custom_domain_names, which the service reaches only through the
-- SECURITY DEFINER functions below (as tenant_slugs); lookups by name (Host resolution, the TLS "ask" endpoint, the re-check job) too.

CREATE TABLE custom_domains (
    tenant_id          uuid        NOT NULL REFERENCES tenants (id),
    id                 uuid        NOT NULL,
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 253),
    status             text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'failed')),
    ssl_status         text        NOT NULL DEFAULT 'pending' CHECK (ssl_status IN ('pending', 'issued', 'renewing', 'expired', 'failed')),
    verification_token text        NOT NULL,
    verified_at        timestamptz,
    last_checked_at    timestamptz,
    missing_since      timestamptz,
    last_error         text        CHECK (length(last_error) <= 500),
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

ALTER TABLE custom_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_domains
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON custom_domains FOR SELECT TO platform_xt USING (current_user = 'platform_xt');

GRANT SELECT, INSERT, UPDATE, DELETE ON custom_domains TO platform_app;
GRANT SELECT ON custom_domains TO platform_xt;

-- A change of a tenant's domains drops the cached host resolutions of that tenant on every instance (the tenant access channel of 0550).
CREATE TRIGGER custom_domains_changed
    AFTER INSERT OR UPDATE OR DELETE ON custom_domains
    FOR EACH ROW EXECUTE FUNCTION notify_tenant_access_changed();

CREATE TABLE custom_domain_names (
    name      text PRIMARY KEY,
    tenant_id uuid NOT NULL,
    domain_id uuid NOT NULL
);
COMMENT ON TABLE custom_domain_names IS 'global: custom domain name registry (one tenant per name), a reference table under Citus';
-- Only the named functions (running as platform_xt) touch it; the service role has no grant, and forced RLS admits platform_xt alone.
ALTER TABLE custom_domain_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_domain_names FORCE ROW LEVEL SECURITY;
CREATE POLICY registry ON custom_domain_names TO platform_xt USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT, DELETE ON custom_domain_names TO platform_xt;

-- Claims a name for a domain of the session's tenant; false when another live domain holds it. A claim whose domain row is gone
-- (deleted, or purged with its tenant) is stale and taken over.
CREATE FUNCTION claim_custom_domain(p_name text, p_domain_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    BEGIN
        IF app_tenant_id() IS NULL THEN
            RAISE EXCEPTION 'claim_custom_domain needs app.tenant_id';
        END IF;
        DELETE FROM custom_domain_names n
        WHERE n.name = p_name
          AND NOT EXISTS (SELECT 1 FROM custom_domains d WHERE d.tenant_id = n.tenant_id AND d.id = n.domain_id);
        INSERT INTO custom_domain_names (name, tenant_id, domain_id) VALUES (p_name, app_tenant_id(), p_domain_id)
        ON CONFLICT (name) DO NOTHING;
        RETURN FOUND;
    END
    $$;

-- Releases a name the session's tenant holds.
CREATE FUNCTION release_custom_domain(p_name text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$ DELETE FROM custom_domain_names n WHERE n.name = p_name AND n.tenant_id = app_tenant_id() $$;

-- The tenant a verified domain belongs to, with the tenant's plan and status (for the engine's feature rule); no row for other names.
CREATE FUNCTION verified_custom_domain_tenant(p_name text)
    RETURNS TABLE (tenant_id uuid, domain_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT d.tenant_id, d.id
        FROM custom_domain_names n
        JOIN custom_domains d ON d.tenant_id = n.tenant_id AND d.id = n.domain_id
        JOIN tenants t ON t.id = d.tenant_id
        WHERE n.name = p_name AND d.status = 'verified' AND t.deleted_at IS NULL
    $$;

-- Verified domains whose last check is older than p_checked_before, the oldest first, for the re-check job.
CREATE FUNCTION custom_domains_to_recheck(p_checked_before timestamptz, p_limit integer)
    RETURNS TABLE (tenant_id uuid, domain_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT d.tenant_id, d.id
        FROM custom_domains d
        JOIN tenants t ON t.id = d.tenant_id
        WHERE d.status = 'verified' AND t.deleted_at IS NULL
          AND (d.last_checked_at IS NULL OR d.last_checked_at < p_checked_before)
        ORDER BY d.last_checked_at NULLS FIRST, d.tenant_id, d.id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION claim_custom_domain(text, uuid) OWNER TO platform_xt;
ALTER FUNCTION release_custom_domain(text) OWNER TO platform_xt;
ALTER FUNCTION verified_custom_domain_tenant(text) OWNER TO platform_xt;
ALTER FUNCTION custom_domains_to_recheck(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION claim_custom_domain(text, uuid), release_custom_domain(text), verified_custom_domain_tenant(text),
    custom_domains_to_recheck(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_custom_domain(text, uuid), release_custom_domain(text), verified_custom_domain_tenant(text),
    custom_domains_to_recheck(timestamptz, integer) TO platform_app;
