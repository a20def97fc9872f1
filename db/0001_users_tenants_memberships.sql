-- Users, tenants and memberships, with row-level security.
-- Tenant-scoped tables: policy on app.tenant_id, set transaction-locally by the engine's session.
-- The cross-tenant read policies hold only while a platform_xt-owned SECURITY DEFINER function runs
-- (current_user = platform_xt), not for platform_owner, which is a member of platform_xt only to own them.
-- Users are global; a user row is visible to itself (app.user_id) and to co-members of the current tenant.

CREATE EXTENSION IF NOT EXISTS citext;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO platform_app, platform_xt;

CREATE FUNCTION app_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE users (
    id                uuid        PRIMARY KEY,
    email             citext      NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash     text,
    oauth_provider    text,
    oauth_subject     text,
    email_verified_at timestamptz,
    default_tenant_id uuid,
    status            text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
    preferences       jsonb       NOT NULL DEFAULT '{}',
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_oauth_key UNIQUE (oauth_provider, oauth_subject)
);

CREATE TABLE tenants (
    id                   uuid        PRIMARY KEY,
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug                 text        NOT NULL CHECK (slug ~ '^[a-z0-9](-?[a-z0-9])*$' AND length(slug) BETWEEN 3 AND 63),
    plan                 text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('trial', 'active', 'past_due', 'suspended', 'cancelled', 'deleted')),
    trial_ends_at        timestamptz,
    suspended_reason     text,
    billing_email        text,
    max_workers          integer     NOT NULL,
    max_runs_per_day     integer     NOT NULL,
    max_concurrent_runs  integer     NOT NULL,
    max_tokens_per_month bigint      NOT NULL,
    max_api_keys         integer     NOT NULL,
    runs_today           integer     NOT NULL DEFAULT 0 CHECK (runs_today >= 0),
    runs_this_month      integer     NOT NULL DEFAULT 0 CHECK (runs_this_month >= 0),
    tokens_this_month    bigint      NOT NULL DEFAULT 0 CHECK (tokens_this_month >= 0),
    last_run_reset_at    timestamptz NOT NULL DEFAULT now(),
    onboarding_state     text        NOT NULL DEFAULT 'created',
    settings             jsonb       NOT NULL DEFAULT '{}',
    is_synthetic         boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz
);

-- Global slug registry (a reference table under Citus). The service can neither read nor
-- write it directly: claims go through claim_tenant_slug(), lookups through tenant_id_by_slug().
CREATE TABLE tenant_slugs (
    slug      text PRIMARY KEY,
    tenant_id uuid NOT NULL
);

CREATE TABLE memberships (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, tenant_id);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = app_tenant_id()) WITH CHECK (id = app_tenant_id());
CREATE POLICY cross_tenant_read ON tenants FOR SELECT TO platform_xt USING (current_user = 'platform_xt');

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON memberships FOR SELECT TO platform_xt USING (current_user = 'platform_xt');

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY self_or_co_member_read ON users FOR SELECT
    USING (id = app_user_id()
           OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = app_tenant_id()));
CREATE POLICY self_insert ON users FOR INSERT WITH CHECK (id = app_user_id());
CREATE POLICY self_update ON users FOR UPDATE USING (id = app_user_id()) WITH CHECK (id = app_user_id());
CREATE POLICY cross_tenant_read ON users FOR SELECT TO platform_xt USING (current_user = 'platform_xt');

GRANT SELECT, INSERT, UPDATE ON users TO platform_app;
GRANT SELECT, INSERT, UPDATE ON tenants TO platform_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO platform_app;
GRANT SELECT ON users, tenants, memberships, tenant_slugs TO platform_xt;
GRANT INSERT ON tenant_slugs TO platform_xt;

-- The explicitly named cross-tenant paths. Each reads app.user_id itself where it can,
-- so the service cannot ask for somebody else's rows.

CREATE FUNCTION user_credentials_by_email(p_email text)
    RETURNS TABLE (id uuid, password_hash text, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.id, u.password_hash, u.status FROM users u WHERE u.email = p_email::citext $$;

-- Claims a slug for a tenant; false when another tenant holds it (waits for an open claim to settle).
CREATE FUNCTION claim_tenant_slug(p_slug text, p_tenant_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    BEGIN
        INSERT INTO tenant_slugs (slug, tenant_id) VALUES (p_slug, p_tenant_id) ON CONFLICT (slug) DO NOTHING;
        RETURN FOUND;
    END
    $$;

CREATE FUNCTION tenant_id_by_slug(p_slug text)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT s.tenant_id FROM tenant_slugs s WHERE s.slug = p_slug $$;

-- The calling user's tenants (app.user_id) with the user's role, in id order after p_after, at most p_limit rows.
CREATE FUNCTION my_tenants(p_after uuid, p_limit integer)
    RETURNS TABLE (
        role text, id uuid, name text, slug text, plan text, status text, trial_ends_at timestamptz,
        suspended_reason text, billing_email text, max_workers integer, max_runs_per_day integer,
        max_concurrent_runs integer, max_tokens_per_month bigint, max_api_keys integer, runs_today integer,
        runs_this_month integer, tokens_this_month bigint, last_run_reset_at timestamptz, onboarding_state text,
        settings text, is_synthetic boolean, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT m.role, t.id, t.name, t.slug, t.plan, t.status, t.trial_ends_at,
               t.suspended_reason, t.billing_email, t.max_workers, t.max_runs_per_day,
               t.max_concurrent_runs, t.max_tokens_per_month, t.max_api_keys, t.runs_today,
               t.runs_this_month, t.tokens_this_month, t.last_run_reset_at, t.onboarding_state,
               t.settings::text, t.is_synthetic, t.created_at, t.updated_at, t.deleted_at
        FROM memberships m
        JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = app_user_id()
          AND t.deleted_at IS NULL
          AND (p_after IS NULL OR m.tenant_id > p_after)
        ORDER BY m.tenant_id
        LIMIT p_limit
    $$;

-- A new owner needs CREATE on the schema at the moment of the transfer only.
GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION user_credentials_by_email(text) OWNER TO platform_xt;
ALTER FUNCTION tenant_id_by_slug(text) OWNER TO platform_xt;
ALTER FUNCTION claim_tenant_slug(text, uuid) OWNER TO platform_xt;
ALTER FUNCTION my_tenants(uuid, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION user_credentials_by_email(text), tenant_id_by_slug(text), claim_tenant_slug(text, uuid), my_tenants(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION user_credentials_by_email(text), tenant_id_by_slug(text), claim_tenant_slug(text, uuid), my_tenants(uuid, integer) TO platform_app;
GRANT EXECUTE ON FUNCTION app_tenant_id(), app_user_id() TO platform_app, platform_xt;
