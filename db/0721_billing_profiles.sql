-- What the customer portal changes in Stripe and Platform keeps (ADR 0721): the buyer's billing name and postal address
-- (customer.updated; the billing email goes to tenants.billing_email) and the card last attached (payment_method.attached:
-- brand, last four digits and expiry, never the number). Each part moves only forward in Stripe's event time.
CREATE TABLE billing_profiles (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id),
    name                  text        CHECK (length(name) <= 300),
    address_line1         text        CHECK (length(address_line1) <= 300),
    address_line2         text        CHECK (length(address_line2) <= 300),
    postal_code           text        CHECK (length(postal_code) <= 40),
    city                  text        CHECK (length(city) <= 200),
    state                 text        CHECK (length(state) <= 200),
    country               text        CHECK (country ~ '^[A-Z]{2}$'),
    customer_synced_at    timestamptz,
    payment_method_id     text        CHECK (length(payment_method_id) <= 255),
    card_brand            text        CHECK (length(card_brand) <= 40),
    card_last4            text        CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month        integer     CHECK (card_exp_month BETWEEN 1 AND 12),
    card_exp_year         integer     CHECK (card_exp_year BETWEEN 2000 AND 2200),
    payment_method_at     timestamptz,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);
ALTER TABLE billing_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_profiles
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE ON billing_profiles TO platform_app;
