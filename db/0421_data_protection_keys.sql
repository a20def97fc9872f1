-- The Data Protection key ring (it protects TOTP secrets and queued email secrets) lives here, shared by every API and
-- Worker instance, instead of in a local folder; the key material in each row is encrypted with the configured key
-- encryption key before it is stored (docs/decisions/0196-data-protection-key-ring-in-postgresql.md).
-- Rows are only appended: a key's expiry and revocations are further rows, never changes.
CREATE TABLE data_protection_keys (
    name       text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
    xml        text        NOT NULL,
    created_at timestamptz NOT NULL
);
COMMENT ON TABLE data_protection_keys IS 'global: the Data Protection key ring shared by every instance, a few rows a year (a reference table under Citus)';

GRANT SELECT, INSERT ON data_protection_keys TO platform_app;
