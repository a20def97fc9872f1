-- Subscription lifecycle: Stripe event ordering, dunning, trial notices, and the cross-tenant paths of the billing jobs.

-- stripe_state_at: Stripe's creation time of the last customer.subscription.* event applied (plan, period, flags); an older one is never applied.
-- stripe_status_at: Stripe's creation time of the last event that set the status (subscription or invoice events); an older one never sets it.
-- past_due_since: when the subscription last became past_due (dunning's grace period counts from it); null otherwise.
-- change_seq: how many plan changes or cancellations were asked of this subscription; the next Stripe idempotency key uses it.
ALTER TABLE subscriptions
    ADD COLUMN stripe_state_at timestamptz,
    ADD COLUMN stripe_status_at timestamptz,
    ADD COLUMN past_due_since  timestamptz,
    ADD COLUMN change_seq      integer NOT NULL DEFAULT 0 CHECK (change_seq >= 0);
CREATE INDEX subscriptions_stripe_id_idx ON subscriptions (tenant_id, stripe_subscription_id) WHERE stripe_subscription_id IS NOT NULL;

-- Notices billing sends once: 'trial_ending', 'trial_ended', 'payment_failed:{stripe invoice id}'. The row is inserted in the
-- transaction that queues the email or applies the change, so several job copies or replayed events act once.
CREATE TABLE billing_notices (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    notice     text        NOT NULL CHECK (length(notice) BETWEEN 1 AND 300),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, notice)
);
ALTER TABLE billing_notices ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_notices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_notices
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- SELECT is needed by INSERT ... ON CONFLICT DO NOTHING on the key columns.
GRANT SELECT, INSERT ON billing_notices TO platform_app;

-- Cross-tenant reads, holding only while a platform_xt-owned function runs (see db/0001).
CREATE INDEX stripe_customers_customer_idx ON stripe_customers (customer_id);
CREATE POLICY cross_tenant_read ON stripe_customers FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY cross_tenant_read ON subscriptions FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY cross_tenant_read ON billing_notices FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON stripe_customers, subscriptions, billing_notices TO platform_xt;

-- The tenant of a Stripe customer, for webhooks whose object carries no tenant_id metadata; null when unknown or ambiguous.
CREATE FUNCTION tenant_id_by_stripe_customer(p_customer_id text)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT CASE WHEN count(DISTINCT c.tenant_id) = 1 THEN min(c.tenant_id::text)::uuid END
        FROM stripe_customers c
        WHERE c.customer_id = p_customer_id
    $$;

-- Dunning: tenants whose live subscription has been past_due since before p_before and that are not suspended or deleted yet.
CREATE FUNCTION tenants_past_due_since(p_before timestamptz, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.tenant_id
        FROM subscriptions s
        JOIN tenants t ON t.id = s.tenant_id
        WHERE s.status = 'past_due' AND s.past_due_since < p_before AND t.status NOT IN ('suspended', 'deleted')
        ORDER BY s.past_due_since
        LIMIT p_limit
    $$;

-- Trials: tenants in trial whose trial ends before p_until and that have not had the notice p_notice yet.
CREATE FUNCTION tenants_with_trial_due(p_until timestamptz, p_notice text, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id
        FROM tenants t
        WHERE t.status = 'trial' AND t.trial_ends_at < p_until
          AND NOT EXISTS (SELECT 1 FROM billing_notices n WHERE n.tenant_id = t.id AND n.notice = p_notice)
        ORDER BY t.trial_ends_at
        LIMIT p_limit
    $$;

-- Period ends: tenants whose live subscription's period ended by p_now and that have a change to apply there (a pending downgrade
-- or cancellation, online or offline) or are offline (their period rolls here; Stripe rolls its own).
CREATE FUNCTION subscriptions_due_at_period_end(p_now timestamptz, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT s.tenant_id
        FROM subscriptions s
        WHERE s.status <> 'canceled' AND s.current_period_end <= p_now
          AND (s.pending_plan IS NOT NULL OR s.cancel_at_period_end OR s.stripe_subscription_id IS NULL)
        ORDER BY s.current_period_end
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenant_id_by_stripe_customer(text) OWNER TO platform_xt;
ALTER FUNCTION tenants_past_due_since(timestamptz, integer) OWNER TO platform_xt;
ALTER FUNCTION tenants_with_trial_due(timestamptz, text, integer) OWNER TO platform_xt;
ALTER FUNCTION subscriptions_due_at_period_end(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenant_id_by_stripe_customer(text), tenants_past_due_since(timestamptz, integer),
    tenants_with_trial_due(timestamptz, text, integer), subscriptions_due_at_period_end(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_id_by_stripe_customer(text), tenants_past_due_since(timestamptz, integer),
    tenants_with_trial_due(timestamptz, text, integer), subscriptions_due_at_period_end(timestamptz, integer) TO platform_app;
