-- The per-client-IP limit of operator logins, shared by every API instance (it was an in-memory limiter per
-- instance before): one row per IP with a fixed one-minute window, counted by one conditional upsert (as 0101's
-- api_key_rate_windows), so the count is exact across instances. See docs/decisions/0261-*.
CREATE TABLE operator_login_ip_windows (
    ip            text        PRIMARY KEY CHECK (length(ip) BETWEEN 1 AND 64),
    window_start  timestamptz NOT NULL,
    attempt_count integer     NOT NULL CHECK (attempt_count >= 1)
);
COMMENT ON TABLE operator_login_ip_windows IS
    'global: operator login attempts per client IP and minute; the operator plane, not tenant data (a reference table under Citus)';
CREATE INDEX operator_login_ip_windows_start_idx ON operator_login_ip_windows (window_start);

GRANT SELECT, INSERT, UPDATE, DELETE ON operator_login_ip_windows TO platform_app;
