-- GDPR and retention: the purge of deleted tenants and the lists the retention jobs walk.
-- See docs/decisions/0201-tenant-purge-path.md.

-- Append-only tables refuse UPDATE and DELETE, with one exception: the purge of a deleted tenant.
-- It runs inside purge_deleted_tenant (SECURITY DEFINER, owned by the schema owner), which alone sets
-- app.purging_tenant; the exception also requires the current role to own the table, which the
-- service role platform_app never does.
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP = 'DELETE'
           AND (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID) = (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
           AND (to_jsonb(OLD) ->> 'tenant_id') IS NOT NULL
           AND (to_jsonb(OLD) ->> 'tenant_id') = nullif(current_setting('app.purging_tenant', true), '') THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END
    $$;

-- Deletes every row of a tenant that was soft-deleted at or before p_deleted_before, from every table with a
-- tenant_id column (found in the catalogue, so tables added later are included), children before parents,
-- then the tenant itself. Returns the number of rows deleted, or null when the tenant is not due.
CREATE FUNCTION purge_deleted_tenant(p_tenant uuid, p_deleted_before timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_remaining oid[];
        v_table oid;
        v_progress boolean;
        v_rows bigint := 0;
        v_count bigint;
    BEGIN
        IF p_deleted_before > now() THEN
            RAISE EXCEPTION 'the retention window cannot end in the future' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM set_config('app.tenant_id', p_tenant::text, true);
        PERFORM 1 FROM tenants t
        WHERE t.id = p_tenant AND t.status = 'deleted' AND t.deleted_at <= p_deleted_before
        FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM set_config('app.tenant_id', '', true);
            RETURN NULL;
        END IF;
        PERFORM set_config('app.purging_tenant', p_tenant::text, true);

        SELECT coalesce(array_agg(c.oid), '{}') INTO v_remaining
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition;

        WHILE cardinality(v_remaining) > 0 LOOP
            v_progress := false;
            FOREACH v_table IN ARRAY v_remaining LOOP
                -- A table is deleted from once no other remaining table references it.
                IF NOT EXISTS (
                    SELECT 1 FROM pg_constraint k
                    WHERE k.contype = 'f' AND k.confrelid = v_table AND k.conrelid <> v_table
                      AND k.conrelid = ANY (v_remaining)) THEN
                    EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', v_table::regclass) USING p_tenant;
                    GET DIAGNOSTICS v_count = ROW_COUNT;
                    v_rows := v_rows + v_count;
                    v_remaining := array_remove(v_remaining, v_table);
                    v_progress := true;
                END IF;
            END LOOP;
            IF NOT v_progress THEN
                RAISE EXCEPTION 'tenant tables reference each other in a cycle: %', v_remaining::regclass[];
            END IF;
        END LOOP;

        DELETE FROM tenants WHERE id = p_tenant;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        v_rows := v_rows + v_count;
        PERFORM set_config('app.purging_tenant', '', true);
        PERFORM set_config('app.tenant_id', '', true);
        RETURN v_rows;
    END
    $$;

-- Tenants soft-deleted at or before p_deleted_before, in id order after p_after (the purge job's work list).
CREATE FUNCTION tenants_due_for_purge(p_deleted_before timestamptz, p_after uuid, p_limit integer)
    RETURNS TABLE (id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id FROM tenants t
        WHERE t.status = 'deleted' AND t.deleted_at <= p_deleted_before AND (p_after IS NULL OR t.id > p_after)
        ORDER BY t.id LIMIT p_limit
    $$;

-- Live tenants and their plans in id order after p_after (the retention job's work list).
CREATE FUNCTION tenant_plans(p_after uuid, p_limit integer)
    RETURNS TABLE (id uuid, plan text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id, t.plan FROM tenants t
        WHERE t.deleted_at IS NULL AND (p_after IS NULL OR t.id > p_after)
        ORDER BY t.id LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenants_due_for_purge(timestamptz, uuid, integer) OWNER TO platform_xt;
ALTER FUNCTION tenant_plans(uuid, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION purge_deleted_tenant(uuid, timestamptz), tenants_due_for_purge(timestamptz, uuid, integer),
    tenant_plans(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_deleted_tenant(uuid, timestamptz), tenants_due_for_purge(timestamptz, uuid, integer),
    tenant_plans(uuid, integer) TO platform_app;
