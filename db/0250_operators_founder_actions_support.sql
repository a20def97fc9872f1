-- The operator console: the company's own staff (platform_users), their immutable founder actions,
-- and tenants' support tickets with their responses.

-- Operators are not tenant users: a global table of the operator plane (a reference table under Citus).
CREATE TABLE platform_users (
    id                    uuid        PRIMARY KEY,
    email                 citext      NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role                  text        NOT NULL CHECK (role IN ('super_admin', 'support', 'billing', 'viewer')),
    password_hash         text        NOT NULL,
    totp_secret_protected text,
    totp_enabled          boolean     NOT NULL DEFAULT false,
    totp_last_step        bigint,
    status                text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_attempts       integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until          timestamptz,
    last_login_at         timestamptz,
    last_login_ip         text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT platform_users_email_key UNIQUE (email),
    CONSTRAINT platform_users_totp_check CHECK (NOT totp_enabled OR totp_secret_protected IS NOT NULL)
);

GRANT SELECT, INSERT, UPDATE ON platform_users TO platform_app;

-- Every operator action, immutable. A reversal is a new row pointing at the row it reverses;
-- the unique constraint makes a second reversal fail even under concurrency.
CREATE TABLE founder_actions (
    id                 uuid        PRIMARY KEY,
    action_type        text        NOT NULL CHECK (length(action_type) BETWEEN 1 AND 100),
    target_type        text        NOT NULL CHECK (length(target_type) BETWEEN 1 AND 100),
    target_id          text        NOT NULL,
    target_tenant_id   uuid,
    reason_code        text        NOT NULL CHECK (length(reason_code) BETWEEN 1 AND 100),
    reason_note        text        CHECK (length(reason_note) <= 2000),
    operator_id        uuid        NOT NULL REFERENCES platform_users (id),
    mfa_verified       boolean     NOT NULL,
    reversible         boolean     NOT NULL,
    reverses_action_id uuid        REFERENCES founder_actions (id),
    details            jsonb       NOT NULL DEFAULT '{}',
    applied_at         timestamptz NOT NULL,
    CONSTRAINT founder_actions_reverses_key UNIQUE (reverses_action_id)
);
CREATE INDEX founder_actions_tenant_idx ON founder_actions (target_tenant_id, id DESC);

CREATE TRIGGER founder_actions_append_only BEFORE UPDATE OR DELETE ON founder_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

GRANT SELECT, INSERT ON founder_actions TO platform_app;

CREATE TABLE support_tickets (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    id            uuid        NOT NULL,
    opened_by     uuid        NOT NULL REFERENCES users (id),
    subject       text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description   text        NOT NULL CHECK (length(description) BETWEEN 1 AND 10000),
    category      text        NOT NULL CHECK (category IN ('billing', 'technical', 'account', 'feature_request', 'other')),
    priority      text        NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status        text        NOT NULL CHECK (status IN ('open', 'in_progress', 'waiting_on_customer', 'resolved', 'closed')),
    resolution    text        CHECK (length(resolution) <= 10000),
    resolved_at   timestamptz,
    resolved_by   uuid,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX support_tickets_status_idx ON support_tickets (status, id);

CREATE TABLE support_ticket_responses (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    ticket_id   uuid        NOT NULL,
    author_type text        NOT NULL CHECK (author_type IN ('user', 'operator')),
    author_id   uuid        NOT NULL,
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES support_tickets (tenant_id, id)
);
CREATE INDEX support_ticket_responses_ticket_idx ON support_ticket_responses (tenant_id, ticket_id, id);

CREATE TRIGGER support_ticket_responses_append_only BEFORE UPDATE OR DELETE ON support_ticket_responses
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE support_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_tickets
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON support_tickets FOR SELECT TO platform_xt USING (current_user = 'platform_xt');

ALTER TABLE support_ticket_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_ticket_responses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_ticket_responses
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON support_tickets TO platform_app;
GRANT SELECT, INSERT ON support_ticket_responses TO platform_app;
GRANT SELECT ON support_tickets TO platform_xt;

-- The operator console's cross-tenant reads. As in 0001, the cross-tenant read policy holds only while a
-- platform_xt-owned function runs (current_user = platform_xt), not for platform_owner, a member of platform_xt.
-- The operator console's cross-tenant reads. The engines call them only for operator callers;
-- writes still go through a session scoped to the one tenant concerned.

-- Tenants matching an optional search (name or slug, case-insensitive), status and plan, in id order after p_after.
CREATE FUNCTION admin_search_tenants(p_query text, p_status text, p_plan text, p_after uuid, p_limit integer)
    RETURNS TABLE (
        id uuid, name text, slug text, plan text, status text, trial_ends_at timestamptz,
        suspended_reason text, billing_email text, max_workers integer, max_runs_per_day integer,
        max_concurrent_runs integer, max_tokens_per_month bigint, max_api_keys integer, runs_today integer,
        runs_this_month integer, tokens_this_month bigint, last_run_reset_at timestamptz, onboarding_state text,
        settings text, is_synthetic boolean, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id, t.name, t.slug, t.plan, t.status, t.trial_ends_at,
               t.suspended_reason, t.billing_email, t.max_workers, t.max_runs_per_day,
               t.max_concurrent_runs, t.max_tokens_per_month, t.max_api_keys, t.runs_today,
               t.runs_this_month, t.tokens_this_month, t.last_run_reset_at, t.onboarding_state,
               t.settings::text, t.is_synthetic, t.created_at, t.updated_at, t.deleted_at
        FROM tenants t
        WHERE (p_query IS NULL
               OR t.name ILIKE '%' || replace(replace(replace(p_query, '\', '\\'), '%', '\%'), '_', '\_') || '%'
               OR t.slug ILIKE '%' || replace(replace(replace(p_query, '\', '\\'), '%', '\%'), '_', '\_') || '%')
          AND (p_status IS NULL OR t.status = p_status)
          AND (p_plan IS NULL OR t.plan = p_plan)
          AND (p_after IS NULL OR t.id > p_after)
        ORDER BY t.id
        LIMIT p_limit
    $$;

-- Support tickets of every tenant, optionally filtered, in id order after p_after.
CREATE FUNCTION admin_support_tickets(p_tenant uuid, p_status text, p_priority text, p_category text, p_after uuid, p_limit integer)
    RETURNS TABLE (
        tenant_id uuid, id uuid, opened_by uuid, subject text, description text, category text, priority text,
        status text, resolution text, resolved_at timestamptz, resolved_by uuid, created_at timestamptz, updated_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.tenant_id, s.id, s.opened_by, s.subject, s.description, s.category, s.priority,
               s.status, s.resolution, s.resolved_at, s.resolved_by, s.created_at, s.updated_at
        FROM support_tickets s
        WHERE (p_tenant IS NULL OR s.tenant_id = p_tenant)
          AND (p_status IS NULL OR s.status = p_status)
          AND (p_priority IS NULL OR s.priority = p_priority)
          AND (p_category IS NULL OR s.category = p_category)
          AND (p_after IS NULL OR s.id > p_after)
        ORDER BY s.id
        LIMIT p_limit
    $$;

-- The tenant that holds a support ticket, or null; operators then act inside that tenant's scope.
CREATE FUNCTION support_ticket_tenant(p_ticket uuid)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT s.tenant_id FROM support_tickets s WHERE s.id = p_ticket $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION admin_search_tenants(text, text, text, uuid, integer) OWNER TO platform_xt;
ALTER FUNCTION admin_support_tickets(uuid, text, text, text, uuid, integer) OWNER TO platform_xt;
ALTER FUNCTION support_ticket_tenant(uuid) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION admin_search_tenants(text, text, text, uuid, integer),
    admin_support_tickets(uuid, text, text, text, uuid, integer), support_ticket_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_search_tenants(text, text, text, uuid, integer),
    admin_support_tickets(uuid, text, text, text, uuid, integer), support_ticket_tenant(uuid) TO platform_app;
