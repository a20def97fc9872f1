-- Invoice notifications (docs/decisions/0651-invoice-notifications-with-the-pdf.md): the invoice email when it is issued, reminders before and after
-- the due date of offline invoices, and the receipt when paid; each sent once per invoice and kind, recorded here in the transaction that queues it.

CREATE TABLE invoice_notifications (
    tenant_id         uuid        NOT NULL,
    invoice_id        uuid        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('issued', 'reminder_before_due', 'reminder_after_due', 'receipt')),
    outbox_message_id uuid        NOT NULL,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, kind),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

ALTER TABLE invoice_notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invoice_notifications
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY cross_tenant_read ON invoice_notifications FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, INSERT ON invoice_notifications TO platform_app;
GRANT SELECT ON invoice_notifications TO platform_xt;

-- The notifications due at p_now (UTC dates) and not sent yet, for tenants (not deleted) with a billing email: 'issued' for invoices issued
-- (open or paid) within the window, 'receipt' for invoices paid within it, and for open invoices Stripe does not collect 'reminder_before_due'
-- from p_before_days before the due date until it, 'reminder_after_due' from p_after_days after it (0 days turns a reminder off). The window
-- keeps what happened before this feature, or long ago, from being mailed now. Names invoices only; the job re-checks under the tenant lock.
CREATE FUNCTION invoice_notifications_due(p_now timestamptz, p_before_days integer, p_after_days integer, p_window_days integer, p_limit integer)
    RETURNS TABLE (tenant_id uuid, invoice_id uuid, kind text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        WITH today AS (SELECT (p_now AT TIME ZONE 'UTC')::date AS d, ((p_now - make_interval(days => p_window_days)) AT TIME ZONE 'UTC')::date AS since),
        due AS (
            SELECT i.tenant_id, i.id, 'issued' AS kind, i.issued_at AS at FROM invoices i
            WHERE i.status IN ('open', 'paid') AND i.issued_at IS NOT NULL AND i.issued_at > p_now - make_interval(days => p_window_days) AND i.issued_at <= p_now
            UNION ALL
            SELECT i.tenant_id, i.id, 'receipt', i.paid_at FROM invoices i
            WHERE i.status = 'paid' AND i.paid_at > p_now - make_interval(days => p_window_days) AND i.paid_at <= p_now
            UNION ALL
            SELECT i.tenant_id, i.id, 'reminder_before_due', i.issued_at FROM invoices i, today
            WHERE p_before_days > 0 AND i.status = 'open' AND i.stripe_invoice_id IS NULL AND i.due_date IS NOT NULL
              AND today.d >= i.due_date - p_before_days AND today.d < i.due_date AND i.due_date - p_before_days > today.since
            UNION ALL
            SELECT i.tenant_id, i.id, 'reminder_after_due', i.issued_at FROM invoices i, today
            WHERE p_after_days > 0 AND i.status = 'open' AND i.stripe_invoice_id IS NULL AND i.due_date IS NOT NULL
              AND today.d >= i.due_date + p_after_days AND i.due_date + p_after_days > today.since
        )
        SELECT due.tenant_id, due.id, due.kind
        FROM due
        JOIN tenants t ON t.id = due.tenant_id
        WHERE t.status <> 'deleted' AND t.billing_email IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM invoice_notifications n WHERE n.tenant_id = due.tenant_id AND n.invoice_id = due.id AND n.kind = due.kind)
        ORDER BY due.at, due.tenant_id, due.id, due.kind
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION invoice_notifications_due(timestamptz, integer, integer, integer, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION invoice_notifications_due(timestamptz, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION invoice_notifications_due(timestamptz, integer, integer, integer, integer) TO platform_app;
