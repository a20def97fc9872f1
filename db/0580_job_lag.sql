-- The job lag figures of /metrics (ADR 0585), across tenants: pending outbox messages (emails and webhook deliveries), the pending
-- webhook deliveries, and the age in seconds of the oldest message that is due and not yet sent (0 when none is due).
-- Counts only: no tenant, payload or address leaves the function.
CREATE FUNCTION job_lag(p_now timestamptz)
    RETURNS TABLE (outbox_pending bigint, webhook_pending bigint, oldest_due_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT count(*),
               count(*) FILTER (WHERE o.kind = 'webhook'),
               coalesce(extract(epoch FROM p_now - min(o.next_attempt_at) FILTER (WHERE o.next_attempt_at <= p_now)), 0)::double precision
        FROM outbox_messages o
        WHERE o.status = 'pending'
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION job_lag(timestamptz) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION job_lag(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION job_lag(timestamptz) TO platform_app;
