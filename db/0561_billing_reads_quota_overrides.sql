-- The monthly close prices overages beyond the tenant's effective quotas: the plan's, then the operator's overrides
-- (docs/decisions/0562). The close reads across tenants through platform_xt-owned functions; this one gives a tenant's
-- overrides as a JSON object {quota: value}, called per candidate in the close's one statement.
CREATE POLICY cross_tenant_read ON tenant_quota_overrides FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON tenant_quota_overrides TO platform_xt;

CREATE FUNCTION billing_quota_overrides(p_tenant_id uuid)
    RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT coalesce(jsonb_object_agg(o.quota, o.value), '{}'::jsonb)::text
        FROM tenant_quota_overrides o
        WHERE o.tenant_id = p_tenant_id
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION billing_quota_overrides(uuid) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION billing_quota_overrides(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_quota_overrides(uuid) TO platform_app;
