-- Offline dunning: an open invoice that Stripe does not collect (no stripe_invoice_id) and whose due date has passed makes the
-- tenant's live subscription past_due (or, with no live subscription, the tenant). See docs/decisions/0330-offline-dunning-from-overdue-invoices.md.

CREATE INDEX invoices_offline_open_due_idx ON invoices (due_date) WHERE status = 'open' AND stripe_invoice_id IS NULL;

-- Tenants with an offline open invoice due before p_today that are not marked past_due for it yet: neither suspended nor deleted,
-- and either a live subscription that is not past_due, or no live subscription and a tenant that is not past_due. Names tenants only;
-- the job re-checks each under the tenant row lock in a session scoped to it.
CREATE FUNCTION tenants_with_overdue_offline_invoices(p_today date, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT i.tenant_id
        FROM invoices i
        JOIN tenants t ON t.id = i.tenant_id
        WHERE i.status = 'open' AND i.stripe_invoice_id IS NULL AND i.due_date < p_today
          AND t.status NOT IN ('suspended', 'deleted')
          AND CASE WHEN EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = i.tenant_id AND s.status <> 'canceled')
                   THEN NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = i.tenant_id AND s.status = 'past_due')
                   ELSE t.status <> 'past_due' END
        GROUP BY i.tenant_id
        ORDER BY min(i.due_date), i.tenant_id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenants_with_overdue_offline_invoices(date, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenants_with_overdue_offline_invoices(date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_with_overdue_offline_invoices(date, integer) TO platform_app;
