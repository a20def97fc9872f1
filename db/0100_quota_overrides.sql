-- Per-tenant quota overrides, applied on top of the tenant's plan (operator console, support deals).
-- The tenants' quota columns always hold the effective value (plan, then override), so that admission
-- reads one row; quotas without a tenants column (members, api_calls_per_month, ...) are resolved by the engine.

CREATE TABLE tenant_quota_overrides (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    quota      text        NOT NULL CHECK (quota ~ '^[a-z_]{1,64}$'),
    value      bigint      NOT NULL CHECK (value >= -1),
    reason     text        CHECK (length(reason) <= 500),
    set_by     text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, quota)
);

ALTER TABLE tenant_quota_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_quota_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_quota_overrides
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_quota_overrides TO platform_app;
