-- A tenant's first run of a worker no longer enables it past max_workers (docs/decisions/0771-a-first-run-enables-within-max-workers.md).
-- run_admit gains p_implicit_enable (default true: the old behaviour, kept for callers of the seven-argument form such as the benchmark's
-- pgbench script) and a worker_missing column: with false, a tenant without a config row of the worker gets worker_missing and nothing is
-- written, so that the service enables the worker under the tenant's enable lock (ADR 0716) and its effective max_workers, then admits again.

DROP FUNCTION run_admit(uuid, text, uuid, integer, timestamptz, timestamptz, timestamptz);

CREATE FUNCTION run_admit(p_tenant uuid, p_worker text, p_key uuid, p_stripe integer,
                          p_now timestamptz, p_day_start timestamptz, p_month_start timestamptz, p_implicit_enable boolean DEFAULT true)
    RETURNS TABLE (worker_counted boolean, max_tokens_per_run integer, key_reserved boolean, tenant_reserved boolean, worker_missing boolean)
    LANGUAGE plpgsql
    AS $$
    DECLARE
        c record;
        k record;
        t record;
    BEGIN
        SELECT x.enabled, x.max_runs_per_day, x.max_tokens_per_run INTO c
          FROM worker_configs x WHERE x.tenant_id = p_tenant AND x.worker_id = p_worker;
        IF NOT FOUND AND NOT p_implicit_enable THEN
            -- The service enables the worker itself, under the tenant's enable lock and its max_workers (ADR 0771), then admits again.
            RETURN QUERY SELECT false, NULL::integer, false, false, true;
            RETURN;
        END IF;
        IF NOT FOUND THEN
            INSERT INTO worker_configs (tenant_id, worker_id, enabled, config, runs_today, last_run_reset_at, created_at, updated_at)
            VALUES (p_tenant, p_worker, true, '{}'::jsonb, 0, p_now, p_now, p_now)
            ON CONFLICT (tenant_id, worker_id) DO NOTHING;
            SELECT x.enabled, x.max_runs_per_day, x.max_tokens_per_run INTO c
              FROM worker_configs x WHERE x.tenant_id = p_tenant AND x.worker_id = p_worker;
        END IF;
        IF NOT c.enabled THEN
            RETURN QUERY SELECT false, NULL::integer, false, false, false;
            RETURN;
        END IF;
        IF NOT run_stripe_take(p_tenant, 'worker:' || p_worker, p_stripe, -1, coalesce(c.max_runs_per_day, -1), p_now, p_day_start, p_month_start) THEN
            RETURN QUERY SELECT false, NULL::integer, false, false, false;
            RETURN;
        END IF;

        IF p_key IS NOT NULL THEN
            SELECT x.max_concurrent_runs INTO k FROM api_keys x
             WHERE x.tenant_id = p_tenant AND x.id = p_key AND x.revoked_at IS NULL AND x.frozen_at IS NULL
               AND (x.allowed_workers IS NULL OR p_worker = ANY (x.allowed_workers));
            IF NOT FOUND THEN
                RETURN QUERY SELECT true, c.max_tokens_per_run, false, false, false;
                RETURN;
            END IF;
            IF NOT run_stripe_take(p_tenant, 'key:' || p_key, p_stripe, coalesce(k.max_concurrent_runs, -1), -1, p_now, p_day_start, p_month_start) THEN
                RETURN QUERY SELECT true, c.max_tokens_per_run, false, false, false;
                RETURN;
            END IF;
        END IF;

        SELECT x.status, x.max_runs_per_day, x.max_concurrent_runs, x.max_tokens_per_month,
               CASE WHEN x.last_run_reset_at < p_month_start THEN 0 ELSE x.tokens_this_month END AS tokens_now
          INTO t FROM tenants x WHERE x.id = p_tenant;
        IF NOT FOUND OR t.status IN ('suspended', 'deleted') OR (t.max_tokens_per_month <> -1 AND t.tokens_now >= t.max_tokens_per_month) THEN
            RETURN QUERY SELECT true, c.max_tokens_per_run, true, false, false;
            RETURN;
        END IF;
        IF NOT run_stripe_take(p_tenant, 'tenant', p_stripe, t.max_concurrent_runs, t.max_runs_per_day, p_now, p_day_start, p_month_start) THEN
            RETURN QUERY SELECT true, c.max_tokens_per_run, true, false, false;
            RETURN;
        END IF;
        -- The first admission of a month writes the month's reset of the tokens on the tenant row (read lazily until then): once a month,
        -- and after the tenant's stripe, the order a completion locks in (stripe, then tenant row).
        UPDATE tenants x SET tokens_this_month = 0, last_run_reset_at = p_now WHERE x.id = p_tenant AND x.last_run_reset_at < p_month_start;
        RETURN QUERY SELECT true, c.max_tokens_per_run, true, true, false;
    END
    $$;
GRANT EXECUTE ON FUNCTION run_admit(uuid, text, uuid, integer, timestamptz, timestamptz, timestamptz, boolean) TO platform_app;
