-- Stripe webhook events already applied, recorded in the same transaction as their effect (a replay is a no-op).
CREATE TABLE stripe_events (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    event_id     text        NOT NULL,
    type         text        NOT NULL,
    created      timestamptz NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stripe_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT ON stripe_events TO platform_app;
