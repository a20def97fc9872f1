-- IP allowlists per tenant (issue 12, docs/decisions/0551-*): the CIDRs (IPv4 and IPv6) a tenant's users and keys must call from.
-- A PUT replaces the whole list; a change notifies platform_tenant_access (trigger of 0550) so that every instance drops its cached list.

CREATE TABLE tenant_ip_allowlist_entries (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    position    integer     NOT NULL CHECK (position BETWEEN 0 AND 99),
    cidr        text        NOT NULL CHECK (length(cidr) <= 64),
    description text        CHECK (length(description) <= 200),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, position)
);

ALTER TABLE tenant_ip_allowlist_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_ip_allowlist_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_ip_allowlist_entries
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_ip_allowlist_entries TO platform_app;

CREATE TRIGGER tenant_ip_allowlist_entries_changed
    AFTER INSERT OR UPDATE OR DELETE ON tenant_ip_allowlist_entries
    FOR EACH ROW EXECUTE FUNCTION notify_tenant_access_changed();
