-- Plan features gated for real (issue 12, docs/decisions/0550-*): per-tenant feature overrides set by operators (founder actions),
-- and change notices on channel platform_tenant_access so that every instance drops its cached features and IP allowlist of a
-- tenant when they change, whichever path changed them (plan changes by the owner, billing jobs, operators).

CREATE TABLE tenant_feature_overrides (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    feature    text        NOT NULL CHECK (feature ~ '^[a-z_]{1,64}$'),
    enabled    boolean     NOT NULL,
    reason     text        CHECK (length(reason) <= 2200),
    set_by     text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, feature)
);

ALTER TABLE tenant_feature_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_feature_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_feature_overrides
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_feature_overrides TO platform_app;

-- "changed:{tenant id}" at commit; identical notices of one transaction arrive once, so an engine may announce the same change too.
CREATE FUNCTION notify_tenant_access_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('platform_tenant_access', 'changed:' || NEW.id::text);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('platform_tenant_access', 'changed:' || OLD.tenant_id::text);
    ELSE
        PERFORM pg_notify('platform_tenant_access', 'changed:' || NEW.tenant_id::text);
    END IF;
    RETURN NULL;
END;
$$;

-- Only statements that name these columns fire it (run admission's hot UPDATEs of the tenants row do not).
CREATE TRIGGER tenants_access_changed
    AFTER UPDATE OF plan, status, suspended_reason ON tenants
    FOR EACH ROW
    WHEN (OLD.plan IS DISTINCT FROM NEW.plan OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.suspended_reason IS DISTINCT FROM NEW.suspended_reason)
    EXECUTE FUNCTION notify_tenant_access_changed();

CREATE TRIGGER tenant_feature_overrides_changed
    AFTER INSERT OR UPDATE OR DELETE ON tenant_feature_overrides
    FOR EACH ROW EXECUTE FUNCTION notify_tenant_access_changed();
