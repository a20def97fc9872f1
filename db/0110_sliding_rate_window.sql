-- The per-key rate limit becomes a sliding-window approximation (docs/decisions/0110): the row keeps the previous
-- one-minute window's count beside the current one, and a request is admitted while
-- floor(previous_count * share of the previous window still inside the last 60 s) + request_count < limit.
ALTER TABLE api_key_rate_windows
    ADD COLUMN previous_count integer NOT NULL DEFAULT 0 CHECK (previous_count >= 0);
