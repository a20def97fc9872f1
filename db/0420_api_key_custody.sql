-- API key custody (docs/decisions/0195-api-key-custody.md): a key is held by its creator's admin membership and is revoked,
-- in the same transaction, when the creator is removed, leaves, is erased or is demoted below admin; a service key,
-- created by an owner, belongs to the tenant and outlives its creator's membership.
ALTER TABLE api_keys ADD COLUMN service_key boolean NOT NULL DEFAULT false;

-- Finds the live keys a member created when the membership changes.
CREATE INDEX api_keys_created_by_idx ON api_keys (tenant_id, created_by) WHERE revoked_at IS NULL;
