-- Billing's usage seam now reads the metered usage: the monthly rollups of usage events (the
-- api_calls meter included), plus billing_usage_inputs for quantities that are imported rather than
-- metered. Runs as the caller, so row-level security keeps it inside the session's tenant.
CREATE OR REPLACE FUNCTION billing_usage_totals(p_tenant_id uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (meter text, quantity numeric)
    LANGUAGE sql STABLE
    AS $$
        SELECT u.meter, sum(u.quantity)
        FROM (
            SELECT r.meter, r.used::numeric AS quantity
            FROM usage_rollups r
            WHERE r.tenant_id = p_tenant_id
              AND r.period_start >= (p_from AT TIME ZONE 'UTC')::date
              AND r.period_start < (p_to AT TIME ZONE 'UTC')::date
            UNION ALL
            SELECT i.meter, i.quantity
            FROM billing_usage_inputs i
            WHERE i.tenant_id = p_tenant_id AND i.period_start >= p_from AND i.period_start < p_to
        ) u
        GROUP BY u.meter
    $$;
