-- Subscriptions (kept locally; mirrored to Stripe when a key is configured) and the usage seam invoices read.

CREATE TABLE subscriptions (
    tenant_id              uuid        NOT NULL REFERENCES tenants (id),
    id                     uuid        NOT NULL,
    plan                   text        NOT NULL,
    billing_cycle          text        NOT NULL CHECK (billing_cycle IN ('monthly', 'annual')),
    status                 text        NOT NULL CHECK (status IN ('active', 'past_due', 'canceled')),
    cancel_at_period_end   boolean     NOT NULL DEFAULT false,
    pending_plan           text,
    current_period_start   timestamptz NOT NULL,
    current_period_end     timestamptz NOT NULL CHECK (current_period_end > current_period_start),
    payment_method_id      text,
    stripe_subscription_id text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    canceled_at            timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- At most one live subscription per tenant.
CREATE UNIQUE INDEX subscriptions_live_key ON subscriptions (tenant_id) WHERE status <> 'canceled';

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subscriptions
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE ON subscriptions TO platform_app;

-- Usage seam: until the runs/usage rollups are merged, invoices read quantities per meter from this
-- small table through billing_usage_totals(); after the merge only the function is redefined.
-- Meters: api_calls (calls), storage_gb (GB-months), gpu_hours (hours).
CREATE TABLE billing_usage_inputs (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    period_start timestamptz NOT NULL,
    meter        text        NOT NULL CHECK (meter IN ('api_calls', 'storage_gb', 'gpu_hours')),
    quantity     numeric     NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (tenant_id, period_start, meter)
);
ALTER TABLE billing_usage_inputs ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_usage_inputs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_usage_inputs
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT ON billing_usage_inputs TO platform_app;

-- SECURITY INVOKER on purpose: it reads under the caller's row-level security, so only the session's tenant.
CREATE FUNCTION billing_usage_totals(p_tenant_id uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (meter text, quantity numeric)
    LANGUAGE sql STABLE
    AS $$
        SELECT i.meter, sum(i.quantity)
        FROM billing_usage_inputs i
        WHERE i.tenant_id = p_tenant_id AND i.period_start >= p_from AND i.period_start < p_to
        GROUP BY i.meter
    $$;
REVOKE ALL ON FUNCTION billing_usage_totals(uuid, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_usage_totals(uuid, timestamptz, timestamptz) TO platform_app;
