-- Offline dunning without a subscription: a tenant made past_due by an overdue invoice (no live subscription, so no
-- past_due_since column) counts its grace period from that invoice's due date. See docs/decisions/0330-offline-dunning-and-online-invoices.md.

-- Tenants that are past_due with no live subscription and hold an open invoice Stripe does not collect whose due date
-- started before p_before. Names tenants only; the dunning job re-checks each under the tenant row lock.
CREATE FUNCTION tenants_past_due_by_invoice_since(p_before timestamptz, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT i.tenant_id
        FROM invoices i
        JOIN tenants t ON t.id = i.tenant_id
        WHERE i.status = 'open' AND i.stripe_invoice_id IS NULL AND (i.due_date::timestamp AT TIME ZONE 'UTC') < p_before
          AND t.status = 'past_due'
          AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = i.tenant_id AND s.status <> 'canceled')
        GROUP BY i.tenant_id
        ORDER BY min(i.due_date), i.tenant_id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenants_past_due_by_invoice_since(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenants_past_due_by_invoice_since(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_past_due_by_invoice_since(timestamptz, integer) TO platform_app;
