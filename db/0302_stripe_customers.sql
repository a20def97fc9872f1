-- The Stripe customer of a tenant, created on first need (online mode only).
CREATE TABLE stripe_customers (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    customer_id text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);
ALTER TABLE stripe_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stripe_customers
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT ON stripe_customers TO platform_app;
