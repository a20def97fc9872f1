-- Striped run admission (docs/decisions/0750-striped-run-admission-with-exact-budgets.md). The run counters that every admission moved on one
-- row per tenant (tenants.active_runs/runs_today/runs_this_month), per key (api_keys.active_runs) and per worker config
-- (worker_configs.runs_today) now live in 32 stripe rows per scope; an admission moves one stripe of each scope (the stripe the caller
-- draws from the run's id (the same for the three scopes, so that its completion or timeout gives back the same stripe). A stripe admits on its own while it
-- is under its budget; budgets of a scope sum to the limit, so the sum of the stripes never passes it. A stripe at its budget (or whose
-- budgets were cut for another limit) takes every stripe of its scope in stripe order, counts them all and, if the limit allows one more,
-- hands the slack out again: a refusal is only ever decided on the exact total. Limits themselves stay on tenants, api_keys and worker_configs.

CREATE TABLE run_admission_stripes (
    tenant_id           uuid        NOT NULL,
    scope               text        NOT NULL CHECK (scope = 'tenant' OR scope LIKE 'key:%' OR scope LIKE 'worker:%'),
    stripe              smallint    NOT NULL CHECK (stripe >= 0 AND stripe < 32),
    active_runs         integer     NOT NULL DEFAULT 0 CHECK (active_runs >= 0),
    runs_today          integer     NOT NULL DEFAULT 0 CHECK (runs_today >= 0),
    runs_this_month     integer     NOT NULL DEFAULT 0 CHECK (runs_this_month >= 0),
    last_run_reset_at   timestamptz NOT NULL,
    -- This stripe's share of the concurrency limit and of the daily limit, and the limit each share was cut from (-2: never cut). A stripe
    -- whose share was cut from another limit than the one in force admits nothing alone (the limit changed: every share is cut again).
    active_budget       integer     NOT NULL DEFAULT 0,
    active_budget_limit integer     NOT NULL DEFAULT -2,
    day_budget          integer     NOT NULL DEFAULT 0,
    day_budget_limit    integer     NOT NULL DEFAULT -2,
    PRIMARY KEY (tenant_id, scope, stripe)
) WITH (fillfactor = 50);

-- What the single rows counted moves to the stripes before row-level security is turned on here; the owner reads the other tables without
-- their forced policies for the moment of the copy. Each running run's slot goes to its own stripe (the last byte of its id modulo 32, as
-- RunStripes.Of computes it), where its completion will give it back; the day's and month's counts go to stripe 0.
ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE worker_configs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE runs NO FORCE ROW LEVEL SECURITY;
INSERT INTO run_admission_stripes (tenant_id, scope, stripe, active_runs, last_run_reset_at)
SELECT r.tenant_id, 'tenant', get_byte(uuid_send(r.id), 15) % 32, count(*), now() FROM runs r WHERE r.status = 'running' GROUP BY 1, 2, 3
UNION ALL
SELECT r.tenant_id, 'key:' || r.api_key_id, get_byte(uuid_send(r.id), 15) % 32, count(*), now() FROM runs r
WHERE r.status = 'running' AND r.api_key_id IS NOT NULL GROUP BY 1, 2, 3;
INSERT INTO run_admission_stripes AS s (tenant_id, scope, stripe, runs_today, runs_this_month, last_run_reset_at)
SELECT t.id, 'tenant', 0, t.runs_today, t.runs_this_month, t.last_run_reset_at FROM tenants t WHERE t.runs_today > 0 OR t.runs_this_month > 0
UNION ALL
SELECT c.tenant_id, 'worker:' || c.worker_id, 0, c.runs_today, 0, c.last_run_reset_at FROM worker_configs c WHERE c.runs_today > 0
ON CONFLICT (tenant_id, scope, stripe) DO UPDATE SET
    runs_today = excluded.runs_today, runs_this_month = excluded.runs_this_month, last_run_reset_at = excluded.last_run_reset_at;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE worker_configs FORCE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;

ALTER TABLE run_admission_stripes ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_admission_stripes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON run_admission_stripes
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
-- As in 0001: holds only while a platform_xt-owned function runs (the operator console's and my_tenants' listings).
CREATE POLICY cross_tenant_read ON run_admission_stripes FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, INSERT, UPDATE ON run_admission_stripes TO platform_app;
GRANT SELECT ON run_admission_stripes TO platform_xt;

COMMENT ON COLUMN tenants.active_runs IS 'Superseded by run_admission_stripes (migration 0750); no longer written.';
COMMENT ON COLUMN tenants.runs_today IS 'Superseded by run_admission_stripes (migration 0750); no longer written.';
COMMENT ON COLUMN tenants.runs_this_month IS 'Superseded by run_admission_stripes (migration 0750); no longer written.';
COMMENT ON COLUMN api_keys.active_runs IS 'Superseded by run_admission_stripes (migration 0750); no longer written.';
COMMENT ON COLUMN worker_configs.runs_today IS 'Superseded by run_admission_stripes (migration 0750); no longer written.';

-- A scope's counters as one row: active runs; the runs of the latest UTC day (month) any stripe was reset in, with that latest reset time,
-- so that a reader applies the lazy reset to the totals as it did to the single row (a stripe not touched since an earlier day counts 0).
CREATE FUNCTION run_stripe_totals(p_tenant uuid, p_scope text)
    RETURNS TABLE (active_runs integer, runs_today integer, runs_this_month integer, last_run_reset_at timestamptz)
    LANGUAGE sql STABLE
    AS $$
        SELECT coalesce(sum(s.active_runs), 0)::integer,
               coalesce(sum(s.runs_today) FILTER (WHERE s.last_run_reset_at >= date_trunc('day', m.at, 'UTC')), 0)::integer,
               coalesce(sum(s.runs_this_month) FILTER (WHERE s.last_run_reset_at >= date_trunc('month', m.at, 'UTC')), 0)::integer,
               m.at
        FROM (SELECT max(x.last_run_reset_at) AS at FROM run_admission_stripes x WHERE x.tenant_id = p_tenant AND x.scope = p_scope) m
        LEFT JOIN run_admission_stripes s ON s.tenant_id = p_tenant AND s.scope = p_scope
        GROUP BY m.at
    $$;
GRANT EXECUTE ON FUNCTION run_stripe_totals(uuid, text) TO platform_app, platform_xt;

-- The share of a limit a stripe gets when budgets are first cut: an even split, the remainder to the lowest stripes.
CREATE FUNCTION run_stripe_share(p_limit integer, p_stripe integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT p_limit / 32 + CASE WHEN p_stripe < p_limit % 32 THEN 1 ELSE 0 END $$;

-- Counts one run on stripe p_stripe of a scope against a concurrency limit and a daily limit (-1: none), exactly:
-- 1. The stripe alone: one conditional UPDATE, true when the stripe is under its budget of each limit (budgets cut from the limit in force).
-- 2. Otherwise every stripe of the scope, created when missing, is locked in stripe order; the totals decide (false at the limit); if one
--    more fits, every stripe's budget becomes its own count plus an even share of the slack (the remainder to p_stripe, so it has room)
--    and p_stripe counts the run. Budgets always sum to the limit and no stripe passes its budget alone, so the total never passes the limit;
--    and a refusal is only decided on the total under every stripe's lock, so no run is refused while the limit has room.
-- Under READ COMMITTED each statement sees the rows as committed when it runs; step 2's reads come after its locks.
CREATE FUNCTION run_stripe_take(p_tenant uuid, p_scope text, p_stripe integer, p_active_limit integer, p_day_limit integer,
                                p_now timestamptz, p_day_start timestamptz, p_month_start timestamptz)
    RETURNS boolean
    LANGUAGE plpgsql
    AS $$
    DECLARE
        v_active bigint;
        v_today bigint;
    BEGIN
        IF p_active_limit < 0 AND p_day_limit < 0 THEN
            -- No limit: any existing stripe counts the run (waiting for its row never ends in a refusal).
            UPDATE run_admission_stripes s SET
                runs_today = (CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END) + 1,
                runs_this_month = (CASE WHEN s.last_run_reset_at < p_month_start THEN 0 ELSE s.runs_this_month END) + 1,
                last_run_reset_at = CASE WHEN s.last_run_reset_at < p_day_start THEN p_now ELSE s.last_run_reset_at END,
                active_runs = s.active_runs + 1
            WHERE s.tenant_id = p_tenant AND s.scope = p_scope AND s.stripe = p_stripe;
            IF FOUND THEN
                RETURN true;
            END IF;
        ELSE
            -- In a subtransaction: an UPDATE that waited for a row another transaction changed locks the new version before it
            -- re-checks the budget, and keeps that lock when the check fails; rolling the subtransaction back drops it, so that
            -- the recount below takes the stripes in stripe order holding none of them (no deadlock with another recount).
            BEGIN
                UPDATE run_admission_stripes s SET
                    runs_today = (CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END) + 1,
                    runs_this_month = (CASE WHEN s.last_run_reset_at < p_month_start THEN 0 ELSE s.runs_this_month END) + 1,
                    last_run_reset_at = CASE WHEN s.last_run_reset_at < p_day_start THEN p_now ELSE s.last_run_reset_at END,
                    active_runs = s.active_runs + 1
                WHERE s.tenant_id = p_tenant AND s.scope = p_scope AND s.stripe = p_stripe
                  AND (p_active_limit < 0 OR (s.active_budget_limit = p_active_limit AND s.active_runs < s.active_budget))
                  AND (p_day_limit < 0 OR (s.day_budget_limit = p_day_limit
                                           AND (CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END) < s.day_budget));
                IF FOUND THEN
                    RETURN true;
                END IF;
                RAISE EXCEPTION 'stripe at its budget' USING ERRCODE = 'PS001';
            EXCEPTION WHEN SQLSTATE 'PS001' THEN
                NULL;
            END;
        END IF;

        -- Created on first use only: an INSERT that meets existing keys would wait for every transaction that moved one of them.
        IF (SELECT count(*) FROM run_admission_stripes s WHERE s.tenant_id = p_tenant AND s.scope = p_scope) < 32 THEN
            INSERT INTO run_admission_stripes (tenant_id, scope, stripe, last_run_reset_at)
            SELECT p_tenant, p_scope, g, p_now FROM generate_series(0, 31) g
            ON CONFLICT DO NOTHING;
        END IF;
        PERFORM 1 FROM run_admission_stripes s WHERE s.tenant_id = p_tenant AND s.scope = p_scope ORDER BY s.stripe FOR UPDATE;
        SELECT sum(s.active_runs), sum(CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END)
          INTO v_active, v_today
          FROM run_admission_stripes s WHERE s.tenant_id = p_tenant AND s.scope = p_scope;
        IF (p_active_limit >= 0 AND v_active >= p_active_limit) OR (p_day_limit >= 0 AND v_today >= p_day_limit) THEN
            RETURN false;
        END IF;

        UPDATE run_admission_stripes s SET
            active_budget = CASE WHEN p_active_limit < 0 THEN 0
                                 ELSE s.active_runs + (p_active_limit - v_active) / 32
                                      + CASE WHEN s.stripe = p_stripe THEN (p_active_limit - v_active) % 32 ELSE 0 END END,
            active_budget_limit = CASE WHEN p_active_limit < 0 THEN -2 ELSE p_active_limit END,
            day_budget = CASE WHEN p_day_limit < 0 THEN 0
                              ELSE (CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END) + (p_day_limit - v_today) / 32
                                   + CASE WHEN s.stripe = p_stripe THEN (p_day_limit - v_today) % 32 ELSE 0 END END,
            day_budget_limit = CASE WHEN p_day_limit < 0 THEN -2 ELSE p_day_limit END
        WHERE s.tenant_id = p_tenant AND s.scope = p_scope;

        UPDATE run_admission_stripes s SET
            runs_today = (CASE WHEN s.last_run_reset_at < p_day_start THEN 0 ELSE s.runs_today END) + 1,
            runs_this_month = (CASE WHEN s.last_run_reset_at < p_month_start THEN 0 ELSE s.runs_this_month END) + 1,
            last_run_reset_at = CASE WHEN s.last_run_reset_at < p_day_start THEN p_now ELSE s.last_run_reset_at END,
            active_runs = s.active_runs + 1
        WHERE s.tenant_id = p_tenant AND s.scope = p_scope AND s.stripe = p_stripe;
        RETURN true;
    END
    $$;
GRANT EXECUTE ON FUNCTION run_stripe_take(uuid, text, integer, integer, integer, timestamptz, timestamptz, timestamptz) TO platform_app;

-- One admission in one round trip, in the order of ADR 0150/0360 (worker config, key, tenant); each step only if the one before held, and
-- the caller rolls back a refusal. The limits are read from their rows (a plain read: no lock, so no admission queues on them; an
-- admission that read a limit before a concurrent change is ordered before that change). A worker config is inserted, enabled and without
-- limits, on first use.
CREATE FUNCTION run_admit(p_tenant uuid, p_worker text, p_key uuid, p_stripe integer,
                          p_now timestamptz, p_day_start timestamptz, p_month_start timestamptz)
    RETURNS TABLE (worker_counted boolean, max_tokens_per_run integer, key_reserved boolean, tenant_reserved boolean)
    LANGUAGE plpgsql
    AS $$
    DECLARE
        c record;
        k record;
        t record;
    BEGIN
        SELECT x.enabled, x.max_runs_per_day, x.max_tokens_per_run INTO c
          FROM worker_configs x WHERE x.tenant_id = p_tenant AND x.worker_id = p_worker;
        IF NOT FOUND THEN
            INSERT INTO worker_configs (tenant_id, worker_id, enabled, config, runs_today, last_run_reset_at, created_at, updated_at)
            VALUES (p_tenant, p_worker, true, '{}'::jsonb, 0, p_now, p_now, p_now)
            ON CONFLICT (tenant_id, worker_id) DO NOTHING;
            SELECT x.enabled, x.max_runs_per_day, x.max_tokens_per_run INTO c
              FROM worker_configs x WHERE x.tenant_id = p_tenant AND x.worker_id = p_worker;
        END IF;
        IF NOT c.enabled THEN
            RETURN QUERY SELECT false, NULL::integer, false, false;
            RETURN;
        END IF;
        IF NOT run_stripe_take(p_tenant, 'worker:' || p_worker, p_stripe, -1, coalesce(c.max_runs_per_day, -1), p_now, p_day_start, p_month_start) THEN
            RETURN QUERY SELECT false, NULL::integer, false, false;
            RETURN;
        END IF;

        IF p_key IS NOT NULL THEN
            SELECT x.max_concurrent_runs INTO k FROM api_keys x
             WHERE x.tenant_id = p_tenant AND x.id = p_key AND x.revoked_at IS NULL AND x.frozen_at IS NULL
               AND (x.allowed_workers IS NULL OR p_worker = ANY (x.allowed_workers));
            IF NOT FOUND THEN
                RETURN QUERY SELECT true, c.max_tokens_per_run, false, false;
                RETURN;
            END IF;
            IF NOT run_stripe_take(p_tenant, 'key:' || p_key, p_stripe, coalesce(k.max_concurrent_runs, -1), -1, p_now, p_day_start, p_month_start) THEN
                RETURN QUERY SELECT true, c.max_tokens_per_run, false, false;
                RETURN;
            END IF;
        END IF;

        SELECT x.status, x.max_runs_per_day, x.max_concurrent_runs, x.max_tokens_per_month,
               CASE WHEN x.last_run_reset_at < p_month_start THEN 0 ELSE x.tokens_this_month END AS tokens_now
          INTO t FROM tenants x WHERE x.id = p_tenant;
        IF NOT FOUND OR t.status IN ('suspended', 'deleted') OR (t.max_tokens_per_month <> -1 AND t.tokens_now >= t.max_tokens_per_month) THEN
            RETURN QUERY SELECT true, c.max_tokens_per_run, true, false;
            RETURN;
        END IF;
        IF NOT run_stripe_take(p_tenant, 'tenant', p_stripe, t.max_concurrent_runs, t.max_runs_per_day, p_now, p_day_start, p_month_start) THEN
            RETURN QUERY SELECT true, c.max_tokens_per_run, true, false;
            RETURN;
        END IF;
        -- The first admission of a month writes the month's reset of the tokens on the tenant row (read lazily until then): once a month,
        -- and after the tenant's stripe, the order a completion locks in (stripe, then tenant row).
        UPDATE tenants x SET tokens_this_month = 0, last_run_reset_at = p_now WHERE x.id = p_tenant AND x.last_run_reset_at < p_month_start;
        RETURN QUERY SELECT true, c.max_tokens_per_run, true, true;
    END
    $$;
GRANT EXECUTE ON FUNCTION run_admit(uuid, text, uuid, integer, timestamptz, timestamptz, timestamptz) TO platform_app;

-- Gives back one run slot of a scope on the stripe the run was admitted on (never below zero).
CREATE FUNCTION run_stripe_release(p_tenant uuid, p_scope text, p_stripe integer, p_slots integer) RETURNS void
    LANGUAGE sql
    AS $$
        UPDATE run_admission_stripes s SET active_runs = greatest(s.active_runs - p_slots, 0)
        WHERE s.tenant_id = p_tenant AND s.scope = p_scope AND s.stripe = p_stripe
    $$;
GRANT EXECUTE ON FUNCTION run_stripe_release(uuid, text, integer, integer) TO platform_app;

-- The tenant listings (platform_xt-owned, so the stripes' cross_tenant_read policy applies inside them) read the runs of today and of the
-- month from the stripes.
CREATE OR REPLACE FUNCTION my_tenants(p_after uuid, p_limit integer)
    RETURNS TABLE (
        role text, id uuid, name text, slug text, plan text, status text, trial_ends_at timestamptz,
        suspended_reason text, billing_email text, max_workers integer, max_runs_per_day integer,
        max_concurrent_runs integer, max_tokens_per_month bigint, max_api_keys integer, runs_today integer,
        runs_this_month integer, tokens_this_month bigint, last_run_reset_at timestamptz, onboarding_state text,
        settings text, is_synthetic boolean, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT m.role, t.id, t.name, t.slug, t.plan, t.status, t.trial_ends_at,
               t.suspended_reason, t.billing_email, t.max_workers, t.max_runs_per_day,
               t.max_concurrent_runs, t.max_tokens_per_month, t.max_api_keys, x.runs_today,
               x.runs_this_month, t.tokens_this_month, t.last_run_reset_at, t.onboarding_state,
               t.settings::text, t.is_synthetic, t.created_at, t.updated_at, t.deleted_at
        FROM memberships m
        JOIN tenants t ON t.id = m.tenant_id
        CROSS JOIN LATERAL run_stripe_totals(t.id, 'tenant') x
        WHERE m.user_id = app_user_id()
          AND t.deleted_at IS NULL
          AND (p_after IS NULL OR m.tenant_id > p_after)
        ORDER BY m.tenant_id
        LIMIT p_limit
    $$;

CREATE OR REPLACE FUNCTION admin_search_tenants(p_query text, p_status text, p_plan text, p_after uuid, p_limit integer)
    RETURNS TABLE (
        id uuid, name text, slug text, plan text, status text, trial_ends_at timestamptz,
        suspended_reason text, billing_email text, max_workers integer, max_runs_per_day integer,
        max_concurrent_runs integer, max_tokens_per_month bigint, max_api_keys integer, runs_today integer,
        runs_this_month integer, tokens_this_month bigint, last_run_reset_at timestamptz, onboarding_state text,
        settings text, is_synthetic boolean, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id, t.name, t.slug, t.plan, t.status, t.trial_ends_at,
               t.suspended_reason, t.billing_email, t.max_workers, t.max_runs_per_day,
               t.max_concurrent_runs, t.max_tokens_per_month, t.max_api_keys, x.runs_today,
               x.runs_this_month, t.tokens_this_month, t.last_run_reset_at, t.onboarding_state,
               t.settings::text, t.is_synthetic, t.created_at, t.updated_at, t.deleted_at
        FROM tenants t
        CROSS JOIN LATERAL run_stripe_totals(t.id, 'tenant') x
        WHERE (p_query IS NULL
               OR t.name ILIKE '%' || replace(replace(replace(p_query, '\', '\\'), '%', '\%'), '_', '\_') || '%'
               OR t.slug ILIKE '%' || replace(replace(replace(p_query, '\', '\\'), '%', '\%'), '_', '\_') || '%')
          AND (p_status IS NULL OR t.status = p_status)
          AND (p_plan IS NULL OR t.plan = p_plan)
          AND (p_after IS NULL OR t.id > p_after)
        ORDER BY t.id
        LIMIT p_limit
    $$;
