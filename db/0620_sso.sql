-- SSO with OpenID Connect per tenant (issue 12, docs/decisions/0620-*): the tenant's IdP settings (client secret under Data Protection),
-- the email domains it claims (one tenant per domain, across all tenants), pending sign-ins (state, PKCE verifier and nonce, single use),
-- one-time sign-in codes the dashboard trades for a session, and the IdP identities linked to users.

CREATE TABLE tenant_sso_settings (
    tenant_id               uuid        NOT NULL PRIMARY KEY REFERENCES tenants (id),
    issuer                  text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
    client_id               text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
    client_secret_protected text        NOT NULL,
    domains                 text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(domains) <= 50),
    default_role            text        NOT NULL CHECK (default_role IN ('admin', 'member', 'viewer')),
    group_claim             text        CHECK (length(group_claim) BETWEEN 1 AND 100),
    group_roles             jsonb       NOT NULL DEFAULT '{}',
    enforce                 boolean     NOT NULL DEFAULT false,
    updated_by              text        NOT NULL,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

ALTER TABLE tenant_sso_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_sso_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_sso_settings
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_sso_settings TO platform_app;

-- One tenant per email domain: the registry is global (like tenant_slugs) and the service reaches it only through the functions below.
CREATE TABLE sso_domain_claims (
    domain     text        PRIMARY KEY CHECK (length(domain) BETWEEN 1 AND 253),
    tenant_id  uuid        NOT NULL,
    claimed_at timestamptz NOT NULL
);
COMMENT ON TABLE sso_domain_claims IS 'global: an email domain is claimed by one tenant across all tenants, a reference table under Citus';
CREATE INDEX sso_domain_claims_tenant_idx ON sso_domain_claims (tenant_id);
ALTER TABLE sso_domain_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_domain_claims FORCE ROW LEVEL SECURITY;
CREATE POLICY registry_functions ON sso_domain_claims TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT, DELETE ON sso_domain_claims TO platform_xt;

-- Makes the session's tenant (app.tenant_id) claim exactly these domains: drops its other claims, adds the new ones, and returns the domains
-- another tenant holds (none claimed for them). The caller rolls back when any is returned.
CREATE FUNCTION claim_sso_domains(p_domains text[], p_now timestamptz)
    RETURNS TABLE (domain text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_tenant uuid := app_tenant_id();
    BEGIN
        IF v_tenant IS NULL THEN
            RAISE EXCEPTION 'claim_sso_domains needs app.tenant_id';
        END IF;
        DELETE FROM sso_domain_claims c WHERE c.tenant_id = v_tenant AND NOT (c.domain = ANY (p_domains));
        INSERT INTO sso_domain_claims (domain, tenant_id, claimed_at)
        SELECT d, v_tenant, p_now FROM unnest(p_domains) AS d
        ON CONFLICT ON CONSTRAINT sso_domain_claims_pkey DO NOTHING;
        RETURN QUERY SELECT c.domain FROM sso_domain_claims c WHERE c.domain = ANY (p_domains) AND c.tenant_id <> v_tenant ORDER BY c.domain;
    END
    $$;

-- The tenant that claims an email domain, or null (home-realm discovery and SSO enforcement at password sign-in).
CREATE FUNCTION sso_tenant_by_domain(p_domain text)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT c.tenant_id FROM sso_domain_claims c WHERE c.domain = p_domain $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION claim_sso_domains(text[], timestamptz) OWNER TO platform_xt;
ALTER FUNCTION sso_tenant_by_domain(text) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION claim_sso_domains(text[], timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION sso_tenant_by_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_sso_domains(text[], timestamptz) TO platform_app;
GRANT EXECUTE ON FUNCTION sso_tenant_by_domain(text) TO platform_app;

-- A started sign-in: the SHA-256 of its state, and its PKCE verifier and nonce under Data Protection; deleted when used (single use).
CREATE TABLE sso_sign_in_states (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    state_hash  bytea       NOT NULL,
    protected   text        NOT NULL,
    redirect_uri text       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX sso_sign_in_states_expiry_idx ON sso_sign_in_states (tenant_id, expires_at);

-- A finished sign-in waiting for the dashboard to trade its one-time code (SHA-256 stored) for a session; deleted when used.
CREATE TABLE sso_sign_in_codes (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    code_hash  bytea       NOT NULL,
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, code_hash)
);

-- The IdP account (issuer and subject) a tenant's SSO linked to a user.
CREATE TABLE sso_identities (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    issuer        text        NOT NULL,
    subject       text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id       uuid        NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (tenant_id, user_id);

ALTER TABLE sso_sign_in_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_sign_in_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_sign_in_states
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
ALTER TABLE sso_sign_in_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_sign_in_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_sign_in_codes
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
ALTER TABLE sso_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_identities
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, DELETE ON sso_sign_in_states, sso_sign_in_codes TO platform_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sso_identities TO platform_app;
