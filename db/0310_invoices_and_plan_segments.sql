-- Usage invoices: the plan history proration reads, invoices with their lines, the platform-wide
-- invoice number counter, the record of closed periods, and the close's narrow cross-tenant functions.
-- See docs/decisions/0310-invoices-proration-and-numbering.md.

-- Plan history. A row per change of a subscription's plan, status or period start, written by a trigger on
-- subscriptions so that no engine has to remember it. The state in force at a moment is the latest row
-- (of any of the tenant's subscriptions) with valid_from <= that moment. Append-only.
CREATE TABLE plan_segments (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    subscription_id uuid        NOT NULL,
    plan            text        NOT NULL,
    billing_cycle   text        NOT NULL,
    status          text        NOT NULL,
    reason          text        NOT NULL CHECK (reason IN ('created', 'plan_changed', 'status_changed', 'renewed')),
    valid_from      timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id)
);
CREATE INDEX plan_segments_time_idx ON plan_segments (tenant_id, valid_from, recorded_at);

CREATE TRIGGER plan_segments_append_only BEFORE UPDATE OR DELETE ON plan_segments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE plan_segments ENABLE ROW LEVEL SECURITY;
ALTER TABLE plan_segments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plan_segments
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON plan_segments FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
-- A subscription changed by a platform_xt function (such as a cross-tenant webhook path) still gets its segment.
CREATE POLICY subscription_trigger_insert ON plan_segments FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, INSERT ON plan_segments TO platform_app;

-- Runs as the caller (the service, inside the subscription's tenant scope). The times come from the row the
-- engine wrote with its clock (created/updated/canceled/period start), never from now().
CREATE FUNCTION record_plan_segment() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO plan_segments (tenant_id, subscription_id, plan, billing_cycle, status, reason, valid_from)
        VALUES (
            NEW.tenant_id, NEW.id, NEW.plan, NEW.billing_cycle, NEW.status,
            CASE
                WHEN TG_OP = 'INSERT' THEN 'created'
                WHEN OLD.plan IS DISTINCT FROM NEW.plan THEN 'plan_changed'
                WHEN OLD.status IS DISTINCT FROM NEW.status THEN 'status_changed'
                ELSE 'renewed'
            END,
            CASE
                WHEN TG_OP = 'INSERT' THEN NEW.current_period_start
                WHEN NEW.status = 'canceled' AND OLD.status IS DISTINCT FROM NEW.status THEN coalesce(NEW.canceled_at, NEW.updated_at)
                WHEN OLD.plan IS NOT DISTINCT FROM NEW.plan AND OLD.status IS NOT DISTINCT FROM NEW.status THEN NEW.current_period_start
                ELSE NEW.updated_at
            END);
        RETURN NULL;
    END
    $$;

CREATE TRIGGER subscriptions_plan_segment_insert AFTER INSERT ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION record_plan_segment();
CREATE TRIGGER subscriptions_plan_segment_update AFTER UPDATE OF plan, status, current_period_start ON subscriptions
    FOR EACH ROW
    WHEN (OLD.plan IS DISTINCT FROM NEW.plan OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.current_period_start IS DISTINCT FROM NEW.current_period_start)
    EXECUTE FUNCTION record_plan_segment();

-- Subscriptions that existed before this migration get their current state as a first segment.
INSERT INTO plan_segments (tenant_id, subscription_id, plan, billing_cycle, status, reason, valid_from)
SELECT s.tenant_id, s.id, s.plan, s.billing_cycle, s.status, 'created', s.current_period_start FROM subscriptions s;

-- Invoices. kind 'period' is the monthly close's invoice: at most one per tenant and month. The number is
-- allocated from invoice_number_counter inside the closing transaction (unique and gap-free platform-wide;
-- the unique constraint carries tenant_id as the distribution rules require).
CREATE TABLE invoices (
    tenant_id                uuid        NOT NULL REFERENCES tenants (id),
    id                       uuid        NOT NULL,
    number                   bigint      NOT NULL CHECK (number > 0),
    kind                     text        NOT NULL DEFAULT 'period' CHECK (kind IN ('period', 'one_off')),
    status                   text        NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency                 text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    period_start             timestamptz NOT NULL,
    period_end               timestamptz NOT NULL,
    subtotal_cents           bigint      NOT NULL,
    total_cents              bigint      NOT NULL,
    due_date                 date,
    issued_at                timestamptz,
    paid_at                  timestamptz,
    stripe_invoice_id        text,
    stripe_payment_intent_id text,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invoices_number_key UNIQUE (tenant_id, number),
    CONSTRAINT invoices_period_check CHECK (period_end > period_start),
    CONSTRAINT invoices_paid_check CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_period_key ON invoices (tenant_id, period_start) WHERE kind = 'period';
CREATE INDEX invoices_period_idx ON invoices (period_start) WHERE kind = 'period';
CREATE INDEX invoices_stripe_idx ON invoices (stripe_invoice_id) WHERE stripe_invoice_id IS NOT NULL;

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoices
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON invoices FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY billing_close_insert ON invoices FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, UPDATE ON invoices TO platform_app;

-- Lines: amount_cents = round(quantity × unit_price_cents ÷ divisor), half away from zero, computed once
-- (divisor is the month's days on a prorated base line, 1 elsewhere), so every line is exact as stored.
CREATE TABLE invoice_lines (
    tenant_id        uuid    NOT NULL,
    invoice_id       uuid    NOT NULL,
    line_no          integer NOT NULL CHECK (line_no > 0),
    kind             text    NOT NULL CHECK (kind IN ('base', 'proration', 'overage', 'adjustment')),
    meter            text,
    description      text    NOT NULL,
    quantity         numeric NOT NULL,
    unit_price_cents numeric NOT NULL,
    divisor          integer NOT NULL DEFAULT 1 CHECK (divisor > 0),
    amount_cents     bigint  NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, line_no),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_lines
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY billing_close_insert ON invoice_lines FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');
GRANT SELECT ON invoice_lines TO platform_app;

-- The close writes each new invoice's audit row in its own transaction.
CREATE POLICY billing_close_insert ON audit_log FOR INSERT TO platform_xt WITH CHECK (current_user = 'platform_xt');

-- The platform-wide invoice number: one row, locked by each closing transaction.
CREATE TABLE invoice_number_counter (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_number bigint  NOT NULL CHECK (last_number >= 0)
);
COMMENT ON TABLE invoice_number_counter IS 'global: one row, the last invoice number issued platform-wide';
INSERT INTO invoice_number_counter (id, last_number) VALUES (true, 0);

-- Months whose close has finished (the Worker job skips them; the command line may close again, creating nothing).
CREATE TABLE billing_periods (
    period_start timestamptz PRIMARY KEY,
    period_end   timestamptz NOT NULL,
    closed_at    timestamptz NOT NULL,
    invoices     integer     NOT NULL
);
COMMENT ON TABLE billing_periods IS 'global: one row per closed billing month, across tenants';
GRANT SELECT, INSERT, UPDATE ON billing_periods TO platform_app;

-- The close reads metered usage across tenants through billing_usage_totals (SECURITY INVOKER) while it runs as platform_xt.
CREATE POLICY cross_tenant_read ON usage_rollups FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
CREATE POLICY cross_tenant_read ON billing_usage_inputs FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON usage_rollups, billing_usage_inputs TO platform_xt;
GRANT SELECT, INSERT ON plan_segments TO platform_xt;
GRANT SELECT, INSERT ON invoices, invoice_lines TO platform_xt;
GRANT INSERT ON audit_log TO platform_xt;
GRANT SELECT, INSERT, UPDATE ON invoice_number_counter TO platform_xt;
GRANT EXECUTE ON FUNCTION billing_usage_totals(uuid, timestamptz, timestamptz) TO platform_xt;

-- What the close needs to price a month, for up to p_limit tenants in id order after p_after that have no
-- period invoice for the month yet and may owe something: a paid subscription in force at the month's start, a
-- plan change inside the month, or usage in the month (the sources billing_usage_totals reads). Any other tenant
-- would price at zero, so it is not read at all. Returns the tenant's plan column, its plan segments relevant to
-- the month (the one in force at the start and every later one before the end) and its usage per meter.
CREATE FUNCTION billing_close_candidates(p_start timestamptz, p_end timestamptz, p_after uuid, p_limit integer)
    RETURNS TABLE (tenant_id uuid, plan text, segments text, usage text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        WITH may_owe AS (
            SELECT s.tenant_id FROM plan_segments s WHERE s.valid_from >= p_start AND s.valid_from < p_end
            UNION
            SELECT l.tenant_id
            FROM (SELECT DISTINCT ON (s.tenant_id) s.tenant_id, s.status
                  FROM plan_segments s WHERE s.valid_from <= p_start
                  ORDER BY s.tenant_id, s.valid_from DESC, s.recorded_at DESC) l
            WHERE l.status IN ('active', 'past_due')
            UNION
            SELECT r.tenant_id FROM usage_rollups r
            WHERE r.period_start >= (p_start AT TIME ZONE 'UTC')::date AND r.period_start < (p_end AT TIME ZONE 'UTC')::date AND r.used > 0
            UNION
            SELECT i.tenant_id FROM billing_usage_inputs i
            WHERE i.period_start >= p_start AND i.period_start < p_end AND i.quantity > 0
        ), batch AS (
            SELECT m.tenant_id FROM may_owe m
            WHERE (p_after IS NULL OR m.tenant_id > p_after)
              AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = m.tenant_id AND i.kind = 'period' AND i.period_start = p_start)
            ORDER BY m.tenant_id
            LIMIT p_limit
        )
        SELECT t.id, t.plan,
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'valid_from', s.valid_from, 'plan', s.plan, 'billing_cycle', s.billing_cycle,
                           'status', s.status, 'reason', s.reason) ORDER BY s.valid_from, s.recorded_at), '[]'::jsonb)::text
                FROM plan_segments s
                WHERE s.tenant_id = t.id AND s.valid_from < p_end
                  AND s.valid_from >= coalesce(
                      (SELECT max(p.valid_from) FROM plan_segments p WHERE p.tenant_id = t.id AND p.valid_from <= p_start),
                      '-infinity'::timestamptz)),
               (SELECT coalesce(jsonb_object_agg(u.meter, u.quantity), '{}'::jsonb)::text
                FROM billing_usage_totals(t.id, p_start, p_end) u)
        FROM batch b
        JOIN tenants t ON t.id = b.tenant_id
        ORDER BY t.id
    $$;

-- How many period invoices a month has, and their total in cents.
CREATE FUNCTION billing_period_invoice_totals(p_start timestamptz)
    RETURNS TABLE (invoices bigint, total_cents bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT count(*), coalesce(sum(i.total_cents), 0)::bigint
        FROM invoices i WHERE i.kind = 'period' AND i.period_start = p_start
    $$;

-- Inserts priced period invoices (a JSON array, in the order numbers are to be given) with their lines and an
-- audit row each. Locks the number counter first, so closers serialise here; then skips tenants that already
-- have an invoice for the month (committed by another closer while this one waited), numbers the rest
-- consecutively and moves the counter in the same transaction, so numbers never repeat nor leave a gap.
-- Returns the invoices it inserted.
CREATE FUNCTION billing_insert_period_invoices(p_start timestamptz, p_invoices text, p_actor_type text, p_actor_id uuid, p_now timestamptz)
    RETURNS TABLE (tenant_id uuid, id uuid, number bigint, total_cents bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    #variable_conflict use_column
    DECLARE
        v_last bigint;
        v_count bigint;
    BEGIN
        IF p_actor_type NOT IN ('system', 'operator') THEN
            RAISE EXCEPTION 'only the system or an operator closes a billing period' USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO invoice_number_counter (id, last_number)
        SELECT true, coalesce((SELECT max(i.number) FROM invoices i), 0)
        ON CONFLICT (id) DO NOTHING;
        SELECT c.last_number INTO v_last FROM invoice_number_counter c WHERE c.id FOR UPDATE;

        RETURN QUERY
        WITH fresh AS (
            SELECT x.tenant_id, x.id, v_last + row_number() OVER (ORDER BY x.ord) AS number, x.currency, x.period_end,
                   x.subtotal_cents, x.total_cents, x.due_date, x.lines
            FROM jsonb_to_recordset(p_invoices::jsonb) AS x(
                     ord integer, tenant_id uuid, id uuid, currency text, period_end timestamptz,
                     subtotal_cents bigint, total_cents bigint, due_date date, lines jsonb)
            WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = x.tenant_id AND i.kind = 'period' AND i.period_start = p_start)
        ), new_invoices AS (
            INSERT INTO invoices (tenant_id, id, number, kind, status, currency, period_start, period_end, subtotal_cents, total_cents,
                                  due_date, issued_at, created_at, updated_at)
            SELECT n.tenant_id, n.id, n.number, 'period', 'open', n.currency, p_start, n.period_end, n.subtotal_cents, n.total_cents,
                   n.due_date, p_now, p_now, p_now
            FROM fresh n
            RETURNING invoices.tenant_id, invoices.id, invoices.number, invoices.total_cents
        ), new_lines AS (
            INSERT INTO invoice_lines (tenant_id, invoice_id, line_no, kind, meter, description, quantity, unit_price_cents, divisor, amount_cents)
            SELECT n.tenant_id, n.id, l.ordinality::integer, l.value ->> 'kind', l.value ->> 'meter', l.value ->> 'description',
                   (l.value ->> 'quantity')::numeric, (l.value ->> 'unit_price_cents')::numeric, (l.value ->> 'divisor')::integer,
                   (l.value ->> 'amount_cents')::bigint
            FROM fresh n
            CROSS JOIN LATERAL jsonb_array_elements(n.lines) WITH ORDINALITY AS l(value, ordinality)
        ), new_audit AS (
            INSERT INTO audit_log (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, new_values)
            SELECT n.tenant_id, gen_random_uuid(), p_now, p_actor_type, p_actor_id, 'invoice.issued', 'invoice', n.id::text,
                   jsonb_build_object('number', n.number, 'status', 'open', 'period_start', p_start, 'total_cents', n.total_cents,
                                      'currency', n.currency, 'due_date', n.due_date)
            FROM fresh n
        )
        SELECT v.tenant_id, v.id, v.number, v.total_cents FROM new_invoices v ORDER BY v.number;
        GET DIAGNOSTICS v_count = ROW_COUNT;

        UPDATE invoice_number_counter c SET last_number = v_last + v_count WHERE c.id;
    END
    $$;

-- The tenant of an invoice Stripe names (webhooks know Stripe's invoice id before they know our tenant), or null.
CREATE FUNCTION invoice_tenant_by_stripe_id(p_stripe_invoice_id text)
    RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT i.tenant_id FROM invoices i WHERE i.stripe_invoice_id = p_stripe_invoice_id LIMIT 1 $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION billing_close_candidates(timestamptz, timestamptz, uuid, integer) OWNER TO platform_xt;
ALTER FUNCTION billing_period_invoice_totals(timestamptz) OWNER TO platform_xt;
ALTER FUNCTION billing_insert_period_invoices(timestamptz, text, text, uuid, timestamptz) OWNER TO platform_xt;
ALTER FUNCTION invoice_tenant_by_stripe_id(text) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION billing_close_candidates(timestamptz, timestamptz, uuid, integer), billing_period_invoice_totals(timestamptz),
    billing_insert_period_invoices(timestamptz, text, text, uuid, timestamptz), invoice_tenant_by_stripe_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_close_candidates(timestamptz, timestamptz, uuid, integer), billing_period_invoice_totals(timestamptz),
    billing_insert_period_invoices(timestamptz, text, text, uuid, timestamptz), invoice_tenant_by_stripe_id(text) TO platform_app;
