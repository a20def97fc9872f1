-- Says why each table without a tenant key is global (db/citus/distribute.sql makes these reference tables).
COMMENT ON TABLE workers IS 'global: the worker registry, a small catalogue';
COMMENT ON TABLE platform_users IS 'global: operators are the company''s own staff, not tenant users';
COMMENT ON TABLE founder_actions IS 'global: operator actions span tenants; each row names its tenant';
COMMENT ON TABLE outbox_messages IS 'global: one outbox for tenant and platform-wide messages (tenant_id nullable), claimed with SKIP LOCKED';
