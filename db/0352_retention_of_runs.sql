-- Plan retention (RetentionTables) trims runs by started_at: the service role may delete them (row-level security keeps it to
-- the session's tenant), and a retry keeps existing when its parent is trimmed first (parent_run_id becomes null, tenant_id stays).
-- usage_events stay out of retention on purpose: they hold the idempotency keys issue 3 keeps forever (docs/decisions/0201).
GRANT DELETE ON runs TO platform_app;

DO $$
DECLARE
    v_name text;
BEGIN
    SELECT c.conname INTO v_name
    FROM pg_constraint c
    WHERE c.conrelid = 'runs'::regclass AND c.confrelid = 'runs'::regclass AND c.contype = 'f';
    EXECUTE format('ALTER TABLE runs DROP CONSTRAINT %I', v_name);
END
$$;

ALTER TABLE runs
    ADD CONSTRAINT runs_parent_run_fkey FOREIGN KEY (tenant_id, parent_run_id)
        REFERENCES runs (tenant_id, id) ON DELETE SET NULL (parent_run_id);
