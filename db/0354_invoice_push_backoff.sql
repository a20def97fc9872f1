-- An invoice Stripe refuses no longer blocks the others or the rest of the billing job: each failed push is counted on the
-- invoice, with the next attempt backed off (1, 2, 4 ... minutes, at most 6 hours) and Stripe's message kept for operators.
-- See docs/decisions/0330-offline-dunning-and-online-invoices.md (amendment).
ALTER TABLE invoices
    ADD COLUMN stripe_push_attempts integer NOT NULL DEFAULT 0 CHECK (stripe_push_attempts >= 0),
    ADD COLUMN stripe_push_next_at  timestamptz,
    ADD COLUMN stripe_push_error    text;

DROP FUNCTION invoices_to_push_to_stripe(integer);

-- Names up to p_limit open invoices with an amount, no stripe_invoice_id and no back-off running at p_now (tenant and invoice
-- ids only): never-tried ones first, then by age.
CREATE FUNCTION invoices_to_push_to_stripe(p_limit integer, p_now timestamptz)
    RETURNS TABLE (tenant_id uuid, invoice_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT i.tenant_id, i.id
        FROM invoices i
        WHERE i.status = 'open' AND i.stripe_invoice_id IS NULL AND i.total_cents > 0
          AND (i.stripe_push_next_at IS NULL OR i.stripe_push_next_at <= p_now)
        ORDER BY i.stripe_push_attempts, i.created_at, i.id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION invoices_to_push_to_stripe(integer, timestamptz) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION invoices_to_push_to_stripe(integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoices_to_push_to_stripe(integer, timestamptz) TO platform_app;
