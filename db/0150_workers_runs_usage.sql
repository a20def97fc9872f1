-- Worker registry (global catalogue), per-tenant worker configs, worker runs and usage metering.
-- Admission counters live on rows that a conditional UPDATE can test and change in one statement:
-- tenants.active_runs (concurrency), tenants.runs_today (daily), worker_configs.runs_today (per worker, daily).

-- The worker registry: a small global catalogue (a reference table under Citus). Prices in integer cents.
CREATE TABLE workers (
    id                  text        PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{0,62}$'),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text        NOT NULL,
    base_cents_per_run  bigint      NOT NULL CHECK (base_cents_per_run >= 0),
    cents_per_1k_tokens bigint      NOT NULL CHECK (cents_per_1k_tokens >= 0),
    uses_credits        boolean     NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO workers (id, name, description, base_cents_per_run, cents_per_1k_tokens, uses_credits) VALUES
    ('summarizer', 'Summarizer', 'Condenses a document into a short summary.', 1, 2, false),
    ('classifier', 'Classifier', 'Sorts a text into the labels it is given.', 0, 1, false),
    ('extractor', 'Extractor', 'Pulls structured fields out of a document.', 2, 3, false),
    ('researcher', 'Researcher', 'Answers a question with several model calls and sources.', 10, 5, true);

GRANT SELECT ON workers TO platform_app;

-- Concurrency counter: a run holds one slot from admission until completion or timeout.
ALTER TABLE tenants ADD COLUMN active_runs integer NOT NULL DEFAULT 0 CHECK (active_runs >= 0);

CREATE TABLE worker_configs (
    tenant_id          uuid        NOT NULL REFERENCES tenants (id),
    worker_id          text        NOT NULL REFERENCES workers (id),
    enabled            boolean     NOT NULL DEFAULT true,
    config             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    max_runs_per_day   integer     CHECK (max_runs_per_day >= 0),
    max_tokens_per_run integer     CHECK (max_tokens_per_run >= 0),
    runs_today         integer     NOT NULL DEFAULT 0 CHECK (runs_today >= 0),
    last_run_reset_at  timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, worker_id)
);

ALTER TABLE worker_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE worker_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON worker_configs
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE ON worker_configs TO platform_app;

CREATE TABLE runs (
    tenant_id          uuid        NOT NULL REFERENCES tenants (id),
    id                 uuid        NOT NULL,
    worker_id          text        NOT NULL REFERENCES workers (id),
    task               text        NOT NULL CHECK (length(task) BETWEEN 1 AND 10000),
    input              jsonb,
    status             text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out')),
    parent_run_id      uuid,
    attempt            integer     NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    actor_type         text        NOT NULL,
    actor_id           uuid,
    api_key_id         uuid,
    max_tokens_per_run integer,
    output             jsonb,
    error              text,
    total_tokens       bigint      CHECK (total_tokens >= 0),
    latency_ms         bigint      CHECK (latency_ms >= 0),
    cost_cents         bigint      CHECK (cost_cents >= 0),
    stages             jsonb,
    recoveries         integer     CHECK (recoveries >= 0),
    policy_violations  jsonb,
    started_at         timestamptz NOT NULL,
    completed_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_run_id) REFERENCES runs (tenant_id, id)
);
CREATE INDEX runs_list_idx ON runs (tenant_id, id DESC);
CREATE INDEX runs_running_idx ON runs (started_at, tenant_id) WHERE status = 'running';

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runs
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- Holds only while a platform_xt-owned function runs (see db/0001): the owner role, a member of platform_xt, still sees no rows.
CREATE POLICY cross_tenant_read ON runs FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE ON runs TO platform_app;
GRANT SELECT ON runs TO platform_xt;

-- Raw usage events: append-only; the idempotency key is unique per tenant forever.
CREATE TABLE usage_events (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    meter           text        NOT NULL,
    amount          bigint      NOT NULL CHECK (amount >= 0),
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE TRIGGER usage_events_append_only BEFORE UPDATE OR DELETE ON usage_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT ON usage_events TO platform_app;

-- Monthly (UTC) rollups per meter, updated in the same transaction as the events they sum.
CREATE TABLE usage_rollups (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    meter        text        NOT NULL,
    period_start date        NOT NULL,
    used         bigint      NOT NULL CHECK (used >= 0),
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, meter, period_start)
);

ALTER TABLE usage_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_rollups
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE ON usage_rollups TO platform_app;

-- The timeout job's one cross-tenant path: which tenants have runs still running since before p_before.
-- It only names tenants; each tenant's runs are then failed in a session scoped to that tenant.
CREATE FUNCTION tenants_with_stale_runs(p_before timestamptz, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT DISTINCT r.tenant_id
        FROM runs r
        WHERE r.status = 'running' AND r.started_at < p_before
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenants_with_stale_runs(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenants_with_stale_runs(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_stale_runs(timestamptz, integer) TO platform_app;
