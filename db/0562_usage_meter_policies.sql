-- Per-tenant policy of a meter (docs/decisions/0563): 'hard' refuses usage beyond the meter's effective monthly quota
-- (ingestion answers 429 and writes nothing), 'soft' (the default, no row) allows it, alerts and bills the overage.
CREATE TABLE usage_meter_policies (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    meter      text        NOT NULL CHECK (meter ~ '^[a-z][a-z0-9_]{0,62}$'),
    policy     text        NOT NULL CHECK (policy IN ('hard', 'soft')),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, meter)
);

ALTER TABLE usage_meter_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_meter_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_meter_policies
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_meter_policies TO platform_app;
