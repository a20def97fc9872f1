-- The worker catalogue (issue 14): operators register, version, deprecate and retire workers over HTTP (ADR 0600).
-- workers keeps the current version's definition; worker_versions keeps every published one, so that a run names the
-- version it ran and a version publish can be reversed by republishing the one before.
ALTER TABLE workers
    ADD COLUMN version                 text        NOT NULL DEFAULT '1.0.0' CHECK (version ~ '^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$'),
    ADD COLUMN status                  text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deprecated', 'retired')),
    ADD COLUMN is_public               boolean     NOT NULL DEFAULT true,
    ADD COLUMN default_config          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(default_config) = 'object'),
    ADD COLUMN input_schema            jsonb       CHECK (input_schema IS NULL OR jsonb_typeof(input_schema) IN ('object', 'boolean')),
    ADD COLUMN output_schema           jsonb       CHECK (output_schema IS NULL OR jsonb_typeof(output_schema) IN ('object', 'boolean')),
    ADD COLUMN tokens_per_run_estimate integer     CHECK (tokens_per_run_estimate >= 0),
    ADD COLUMN updated_at              timestamptz NOT NULL DEFAULT now();

CREATE TABLE worker_versions (
    worker_id               text        NOT NULL REFERENCES workers (id),
    version                 text        NOT NULL,
    name                    text        NOT NULL,
    description             text        NOT NULL,
    base_cents_per_run      bigint      NOT NULL CHECK (base_cents_per_run >= 0),
    cents_per_1k_tokens     bigint      NOT NULL CHECK (cents_per_1k_tokens >= 0),
    credits_per_run         bigint      NOT NULL CHECK (credits_per_run >= 0),
    default_config          jsonb       NOT NULL,
    input_schema            jsonb,
    output_schema           jsonb,
    tokens_per_run_estimate integer,
    published_at            timestamptz NOT NULL,
    PRIMARY KEY (worker_id, version)
);
COMMENT ON TABLE worker_versions IS 'global: every published version of a worker of the catalogue';

INSERT INTO worker_versions (worker_id, version, name, description, base_cents_per_run, cents_per_1k_tokens, credits_per_run,
                             default_config, input_schema, output_schema, tokens_per_run_estimate, published_at)
SELECT id, version, name, description, base_cents_per_run, cents_per_1k_tokens, credits_per_run,
       default_config, input_schema, output_schema, tokens_per_run_estimate, created_at
FROM workers;

GRANT SELECT, INSERT, UPDATE ON workers TO platform_app;
GRANT SELECT, INSERT ON worker_versions TO platform_app;

-- Which tenants see a private worker. A grant is a founder action on that tenant, so it is written in the tenant's scope.
CREATE TABLE worker_access (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    worker_id  text        NOT NULL REFERENCES workers (id),
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, worker_id)
);
ALTER TABLE worker_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE worker_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON worker_access
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, DELETE ON worker_access TO platform_app;

-- The version a run ran (null for runs from before the catalogue).
ALTER TABLE runs ADD COLUMN worker_version text;
