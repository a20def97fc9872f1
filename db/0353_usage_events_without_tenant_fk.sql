-- usage_events loses its foreign key to tenants (docs/decisions/0163). Every ingested row ran the key check: a SELECT ... FOR
-- KEY SHARE of the tenant row, and with parallel batches of one tenant each check shares that row's lock with the others'
-- through a new MultiXact. pgbench running the ingestion INSERT with 4 clients on one tenant: 70 batches of 1,000/s with the
-- key, 149 without. A tenant is never removed while it can still write (deleted tenants are refused by TenantGate and purged
-- after the grace period, every tenant_id table in one transaction), so the key guarded nothing that can happen.
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_fkey;
