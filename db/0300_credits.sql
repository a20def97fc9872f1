-- AI credits: one account per tenant and an append-only ledger; the balance never goes negative.
-- Debits are one conditional UPDATE (balance >= n) followed by the ledger row, in one transaction.

CREATE TABLE credit_accounts (
    tenant_id          uuid        NOT NULL REFERENCES tenants (id),
    balance            bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),
    monthly_grant      bigint      NOT NULL CHECK (monthly_grant >= -1),
    last_grant_period  text        CHECK (last_grant_period ~ '^[0-9]{4}-[0-9]{2}$'),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);
COMMENT ON COLUMN credit_accounts.monthly_grant IS 'credits granted each UTC month by the plan; -1 means unlimited (debits never refused)';

CREATE TABLE credit_transactions (
    tenant_id         uuid        NOT NULL,
    id                uuid        NOT NULL,
    type              text        NOT NULL CHECK (type IN ('quota_monthly', 'purchase', 'usage', 'refund', 'adjustment', 'plan_upgrade')),
    amount            bigint      NOT NULL CHECK (amount <> 0),
    balance_after     bigint      NOT NULL CHECK (balance_after >= 0),
    reference         text        CHECK (length(reference) <= 200),
    stripe_payment_id text,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES credit_accounts (tenant_id)
);
-- A reference is applied once per type (one monthly grant per period, one credit per purchase, one debit per run).
CREATE UNIQUE INDEX credit_transactions_reference_key ON credit_transactions (tenant_id, type, reference) WHERE reference IS NOT NULL;
CREATE TRIGGER credit_transactions_append_only BEFORE UPDATE OR DELETE ON credit_transactions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE credit_purchases (
    tenant_id                uuid        NOT NULL REFERENCES tenants (id),
    id                       uuid        NOT NULL,
    pack                     text        NOT NULL,
    credits                  bigint      NOT NULL CHECK (credits > 0),
    amount_cents             bigint      NOT NULL CHECK (amount_cents >= 0),
    currency                 text        NOT NULL,
    status                   text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    stripe_payment_intent_id text,
    created_at               timestamptz NOT NULL,
    completed_at             timestamptz,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE credit_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_accounts
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE credit_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_transactions
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE credit_purchases ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_purchases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_purchases
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON credit_accounts TO platform_app;
GRANT SELECT, INSERT ON credit_transactions TO platform_app;
GRANT SELECT, INSERT, UPDATE ON credit_purchases TO platform_app;
