-- Identity data that outlives its owner otherwise (ADR 0734):
-- 1. A purged tenant's global registry rows (sso_domain_claims, custom_domain_names). purge_deleted_tenant deletes every tenant_id table
--    as the schema owner, but forced RLS admits only platform_xt to these registries, so they silently survived and an SSO email domain
--    stayed claimed forever. release_purged_tenant_names drops them once the tenant row is gone (the purge's transaction calls it after
--    purge_deleted_tenant); it refuses for a tenant that still exists.
-- 2. An erased user's IdP links (sso_identities, one row per tenant that linked the user). The erasure runs as the user's own session,
--    without a tenant; erase_my_sso_identities deletes the links of app.user_id only, in every tenant.

CREATE POLICY registry_release ON sso_identities TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT, DELETE ON sso_identities TO platform_xt;

CREATE FUNCTION release_purged_tenant_names(p_tenant uuid)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_claims integer;
        v_names integer;
    BEGIN
        IF EXISTS (SELECT 1 FROM tenants t WHERE t.id = p_tenant) THEN
            RAISE EXCEPTION 'release_purged_tenant_names: tenant % still exists', p_tenant USING ERRCODE = 'object_in_use';
        END IF;
        DELETE FROM sso_domain_claims c WHERE c.tenant_id = p_tenant;
        GET DIAGNOSTICS v_claims = ROW_COUNT;
        DELETE FROM custom_domain_names n WHERE n.tenant_id = p_tenant;
        GET DIAGNOSTICS v_names = ROW_COUNT;
        RETURN v_claims + v_names;
    END
    $$;

CREATE FUNCTION erase_my_sso_identities()
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_rows integer;
    BEGIN
        IF app_user_id() IS NULL THEN
            RAISE EXCEPTION 'erase_my_sso_identities needs app.user_id';
        END IF;
        DELETE FROM sso_identities i WHERE i.user_id = app_user_id();
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        RETURN v_rows;
    END
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION release_purged_tenant_names(uuid) OWNER TO platform_xt;
ALTER FUNCTION erase_my_sso_identities() OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION release_purged_tenant_names(uuid), erase_my_sso_identities() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION release_purged_tenant_names(uuid), erase_my_sso_identities() TO platform_app;
