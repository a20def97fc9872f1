-- Online: open invoices Stripe does not hold yet are pushed to Stripe after the close has committed them (a pass that is safe to
-- re-run; Stripe's idempotency keys come from our invoice id). See docs/decisions/0330-offline-dunning-and-online-invoices.md.

-- Names up to p_limit open invoices with an amount and no stripe_invoice_id (tenant and invoice ids only), oldest first.
CREATE FUNCTION invoices_to_push_to_stripe(p_limit integer)
    RETURNS TABLE (tenant_id uuid, invoice_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT i.tenant_id, i.id
        FROM invoices i
        WHERE i.status = 'open' AND i.stripe_invoice_id IS NULL AND i.total_cents > 0
        ORDER BY i.created_at, i.id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION invoices_to_push_to_stripe(integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION invoices_to_push_to_stripe(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoices_to_push_to_stripe(integer) TO platform_app;
