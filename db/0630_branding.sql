-- Tenant branding (issue 12, docs/decisions/0630-*): what members, the sign-in page and the tenant's emails show instead of the platform's look.
-- One row per tenant; the API refuses bad values with 422, and the CHECKs hold the same limits so no other writer can store worse.

CREATE TABLE tenant_branding (
    tenant_id         uuid        NOT NULL REFERENCES tenants (id),
    logo_url          text        CHECK (length(logo_url) <= 2048 AND logo_url LIKE 'https://%'),
    custom_css_url    text        CHECK (length(custom_css_url) <= 2048 AND custom_css_url LIKE 'https://%'),
    primary_color     text        CHECK (primary_color ~ '^#[0-9a-f]{6}$'),
    product_name      text        CHECK (length(product_name) BETWEEN 1 AND 100),
    email_sender_name text        CHECK (length(email_sender_name) BETWEEN 1 AND 100),
    updated_by        text        NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id)
);

ALTER TABLE tenant_branding ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_branding FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_branding
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_branding TO platform_app;
