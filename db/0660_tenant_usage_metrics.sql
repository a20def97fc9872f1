-- Seed 003's per-tenant series for /metrics without one series per tenant (ADR 0660). Both functions read across tenants as
-- platform_xt (whose policies already let it read tenants, usage_rollups and tenant_quota_overrides) and return figures only.

-- Each tenant's use of its monthly quotas in the month starting p_period: api_calls, storage_gb and gpu_hours against the limits
-- the caller passes per plan, status and "awaiting its first subscription" (p_limits: {"plan|status|false": {"api_calls_per_month": n,
-- ...}}, built from the plan catalogue, the one rule of ADR 0562), with the operator's overrides on top; tokens against the tenant's
-- own column. Unlimited (-1) and unknown quotas give no row. percent has two decimals; a quota of 0 used at all is 100.
CREATE FUNCTION tenant_quota_usage(p_period date, p_limits jsonb)
    RETURNS TABLE (tenant_id uuid, plan text, meter text, used numeric, quota bigint, percent numeric)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT u.tenant_id, u.plan, u.meter, u.used, u.quota,
               CASE WHEN u.quota = 0 THEN CASE WHEN u.used > 0 THEN 100 ELSE 0 END
                    ELSE round(u.used * 100 / u.quota, 2) END
        FROM (
            SELECT r.tenant_id, t.plan, r.meter, r.used,
                   CASE WHEN r.meter = 'tokens' THEN t.max_tokens_per_month
                        ELSE coalesce(o.value, (p_limits -> (t.plan || '|' || t.status || '|'
                                 || (t.status = 'suspended' AND t.suspended_reason = 'billing: awaiting the first subscription')::text)
                                 ->> q.quota)::bigint) END AS quota
            FROM usage_rollups r
            JOIN tenants t ON t.id = r.tenant_id AND t.status <> 'deleted'
            JOIN (VALUES ('api_calls', 'api_calls_per_month'), ('storage_gb', 'storage_gb'), ('gpu_hours', 'gpu_hours_per_month'),
                         ('tokens', 'max_tokens_per_month')) q (meter, quota) ON q.meter = r.meter
            LEFT JOIN tenant_quota_overrides o ON o.tenant_id = r.tenant_id AND o.quota = q.quota
            WHERE r.period_start = p_period
        ) u
        WHERE u.quota IS NOT NULL AND u.quota >= 0
    $$;

-- Everything ever metered, per meter, across tenants (the counters gpu_hours_total and the cost totals).
CREATE FUNCTION usage_totals_by_meter()
    RETURNS TABLE (meter text, total numeric)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT r.meter, sum(r.used) FROM usage_rollups r GROUP BY r.meter
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenant_quota_usage(date, jsonb) OWNER TO platform_xt;
ALTER FUNCTION usage_totals_by_meter() OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenant_quota_usage(date, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION usage_totals_by_meter() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_quota_usage(date, jsonb) TO platform_app;
GRANT EXECUTE ON FUNCTION usage_totals_by_meter() TO platform_app;
