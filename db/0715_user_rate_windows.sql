-- Per-user request rate limit per tenant (docs/decisions/0715): one row per member and tenant, the same sliding one-minute
-- window as api_key_rate_windows (ADR 0110), shared by every API instance. The row goes with the membership.
CREATE TABLE user_rate_windows (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id),
    user_id        uuid        NOT NULL,
    window_start   timestamptz NOT NULL,
    request_count  integer     NOT NULL CHECK (request_count >= 0),
    previous_count integer     NOT NULL DEFAULT 0 CHECK (previous_count >= 0),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
);

ALTER TABLE user_rate_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_rate_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_rate_windows
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON user_rate_windows TO platform_app;
