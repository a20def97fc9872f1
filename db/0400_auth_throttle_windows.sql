-- One limiter for every secret check (docs/decisions/0185-*): user and operator logins, TOTP codes, invitation tokens
-- and sign-ups are counted per (scope, subject) in a fixed window, by the same single conditional upsert that
-- 0261's operator_login_ip_windows used (which it replaces: its rows are only a minute's counts, so none are carried over).
-- subject is a client IP, or a SHA-256 (hex) of an email or an id: no address is kept in plain text here.
-- expires_at (window_start + the window's length) lets the retention job delete finished windows of any length.
CREATE TABLE auth_throttle_windows (
    scope         text        NOT NULL CHECK (scope ~ '^[a-z_]{1,40}$'),
    subject       text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 64),
    window_start  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempt_count integer     NOT NULL CHECK (attempt_count >= 0),
    PRIMARY KEY (scope, subject)
);
COMMENT ON TABLE auth_throttle_windows IS
    'global: attempts per client IP or account and window for logins, codes, tokens and sign-ups; not tenant data (a reference table under Citus)';
CREATE INDEX auth_throttle_windows_expires_idx ON auth_throttle_windows (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON auth_throttle_windows TO platform_app;

DROP TABLE operator_login_ip_windows;
