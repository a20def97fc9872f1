-- Billing currencies (ADR 0720): a tenant is billed in one currency, chosen at its first subscription or Checkout and fixed
-- afterwards. Null means not chosen yet: the installation's default (Billing:DefaultCurrency) prices its estimates and
-- any usage invoice, and a tenant that has invoices keeps their currency when it subscribes.
ALTER TABLE tenants ADD COLUMN billing_currency text CHECK (billing_currency ~ '^[a-z]{3}$');
COMMENT ON COLUMN tenants.billing_currency IS 'lower-case ISO 4217; set once (first subscription or Checkout), never changed';

-- Tenants billed before currencies existed were billed in the only one there was: every invoice so far is in it, and a
-- tenant with a subscription or an invoice has that currency fixed now, so nothing it already has is ever mixed.
UPDATE tenants t SET billing_currency = coalesce(
        (SELECT i.currency FROM invoices i WHERE i.tenant_id = t.id ORDER BY i.created_at DESC LIMIT 1), 'usd')
WHERE t.billing_currency IS NULL
  AND (EXISTS (SELECT 1 FROM subscriptions s WHERE s.tenant_id = t.id) OR EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = t.id));

-- Once fixed, the currency stays.
CREATE FUNCTION tenants_billing_currency_fixed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.billing_currency IS NOT NULL AND NEW.billing_currency IS DISTINCT FROM OLD.billing_currency THEN
            RAISE EXCEPTION 'the billing currency of tenant % is fixed (%)', OLD.id, OLD.billing_currency USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER tenants_billing_currency_fixed BEFORE UPDATE OF billing_currency ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_billing_currency_fixed();

-- No invoice in another currency than the tenant's, whatever path writes it (the close as platform_xt, the app): one
-- currency per tenant means one per invoice and no mixing across a tenant's invoices.
CREATE FUNCTION invoices_in_tenant_currency() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
        v_currency text;
    BEGIN
        SELECT t.billing_currency INTO v_currency FROM tenants t WHERE t.id = NEW.tenant_id;
        IF v_currency IS NOT NULL AND NEW.currency <> v_currency THEN
            RAISE EXCEPTION 'invoice % is in %, but tenant % is billed in %', NEW.id, NEW.currency, NEW.tenant_id, v_currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER invoices_in_tenant_currency BEFORE INSERT OR UPDATE OF currency ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_in_tenant_currency();

-- The close reads each candidate's currency across tenants, like its overrides (0561).
CREATE FUNCTION billing_currency_of(p_tenant_id uuid)
    RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT t.billing_currency FROM tenants t WHERE t.id = p_tenant_id $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION billing_currency_of(uuid) OWNER TO platform_xt;
ALTER FUNCTION invoices_in_tenant_currency() OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION billing_currency_of(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_currency_of(uuid) TO platform_app;
