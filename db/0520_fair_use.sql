-- Fair use (issue 19, docs/decisions/0520-*): who may take a trial and how many tenants one user may create.
-- Every table here is global and per user (not tenant data): it must be read across tenants while a user creates a tenant,
-- and by operators; none holds anything of a tenant's content (trial_grants names the tenant that took a trial as
-- trial_tenant_id, a reference, so that the tenant_id rule of RLS does not apply to this per-user ledger).

-- The trial ledger: one row per trial ever started. A self-serve trial is one per user and plan family, proved by the unique
-- partial index (concurrent creations are also serialised per user, but the index is the proof). Operator-granted trials are
-- extra rows with source 'operator'; they are not bounded by the index.
CREATE TABLE trial_grants (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    plan_family  text        NOT NULL CHECK (plan_family ~ '^[a-z_]{1,40}$'),
    trial_tenant_id uuid     NOT NULL,
    source       text        NOT NULL CHECK (source IN ('self_serve', 'operator')),
    allowance_id uuid,
    granted_at   timestamptz NOT NULL
);
COMMENT ON TABLE trial_grants IS 'global: every trial started, per user and plan family (fair use, ADR 0520)';
CREATE UNIQUE INDEX trial_grants_one_self_serve_idx ON trial_grants (user_id, plan_family) WHERE source = 'self_serve';
CREATE INDEX trial_grants_user_idx ON trial_grants (user_id, plan_family);

-- Trials an operator granted (a founder action): used by the user's next tenant of that family, or revoked by reversing the action.
CREATE TABLE trial_allowances (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL,
    plan_family        text        NOT NULL CHECK (plan_family ~ '^[a-z_]{1,40}$'),
    granted_by_action  uuid        NOT NULL,
    created_at         timestamptz NOT NULL,
    used_at            timestamptz,
    used_by_tenant_id  uuid,
    revoked_at         timestamptz,
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);
COMMENT ON TABLE trial_allowances IS 'global: trials granted to a user by an operator (founder action user.trial_grant)';
CREATE INDEX trial_allowances_open_idx ON trial_allowances (user_id, plan_family) WHERE used_at IS NULL AND revoked_at IS NULL;

-- A per-user cap on owned tenants set by an operator (founder action user.tenant_cap_set); without a row the configured default holds.
CREATE TABLE user_tenant_caps (
    user_id           uuid        PRIMARY KEY,
    max_owned_tenants integer     NOT NULL CHECK (max_owned_tenants BETWEEN 0 AND 100000),
    reason            text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2200),
    set_by_action     uuid        NOT NULL,
    updated_at        timestamptz NOT NULL
);
COMMENT ON TABLE user_tenant_caps IS 'global: operator overrides of FairUse:MaxOwnedTenantsPerUser, per user';

-- Refusals of fair use, per user and rule, recorded after the refused request rolled back: what operators list as "capped users".
CREATE TABLE fair_use_refusals (
    user_id        uuid        NOT NULL,
    rule           text        NOT NULL CHECK (rule IN ('owned_tenants', 'tenants_per_day', 'trial')),
    refusals       integer     NOT NULL CHECK (refusals > 0),
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    last_detail    text        NOT NULL CHECK (length(last_detail) <= 500),
    PRIMARY KEY (user_id, rule)
);
COMMENT ON TABLE fair_use_refusals IS 'global: how often each user met each fair-use limit; read by the operator console';
CREATE INDEX fair_use_refusals_last_idx ON fair_use_refusals (last_at DESC, user_id);

GRANT SELECT, INSERT, UPDATE ON trial_grants, trial_allowances, fair_use_refusals TO platform_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_tenant_caps TO platform_app;

-- Cross-tenant reads, owned by platform_xt (the pattern of 0001 and 0200): how many live tenants a user owns, and whether a user exists
-- with their email, for the operator console.
CREATE FUNCTION owned_tenant_count(p_user uuid)
    RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT count(*)::integer FROM memberships m JOIN tenants t ON t.id = m.tenant_id
        WHERE m.user_id = p_user AND m.role = 'owner' AND t.deleted_at IS NULL
    $$;

CREATE FUNCTION fair_use_user_email(p_user uuid)
    RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.email::text FROM users u WHERE u.id = p_user $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION owned_tenant_count(uuid) OWNER TO platform_xt;
ALTER FUNCTION fair_use_user_email(uuid) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION owned_tenant_count(uuid), fair_use_user_email(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION owned_tenant_count(uuid), fair_use_user_email(uuid) TO platform_app;
