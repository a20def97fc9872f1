-- Distributes Platform's schema on Citus by tenant, run once on the coordinator after the
-- migrations (as the owner role, with the citus extension created by a superuser):
--   psql "$OWNER_URL" -f db/citus/distribute.sql
-- The rules it relies on are checked on every test run (tests/.../Database/SchemaRuleTests.cs):
--   * tenants is distributed by id; every table with a tenant_id column is distributed by tenant_id
--     and co-located with tenants, unless its comment starts with 'global';
--   * tenant_id is part of every primary key and unique constraint of those tables, and of every
--     foreign key between them;
--   * tables without tenant_id, and tables commented 'global', are small catalogues: reference tables.
DO $$
DECLARE
    t record;
BEGIN
    -- Reference tables first: distributed tables may hold foreign keys to them.
    FOR t IN
        SELECT c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('tenants', 'schemaversions')
          AND (NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
               OR coalesce(obj_description(c.oid, 'pg_class'), '') LIKE 'global%')
        ORDER BY c.relname
    LOOP
        PERFORM create_reference_table(t.relname);
    END LOOP;

    PERFORM create_distributed_table('tenants', 'id');

    -- Parents before children, so that co-located foreign keys find their target distributed.
    FOR t IN
        WITH RECURSIVE tenant_tables AS (
            SELECT c.oid, c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'tenants'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
              AND coalesce(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'global%'
        ), depth AS (
            SELECT tt.oid, tt.relname, 0 AS level FROM tenant_tables tt
            UNION ALL
            SELECT child.oid, child.relname, d.level + 1
            FROM depth d
            JOIN pg_constraint fk ON fk.contype = 'f' AND fk.confrelid = d.oid AND fk.conrelid <> d.oid
            JOIN tenant_tables child ON child.oid = fk.conrelid
            WHERE d.level < 20
        )
        SELECT relname FROM depth GROUP BY relname ORDER BY max(level), relname
    LOOP
        PERFORM create_distributed_table(t.relname, 'tenant_id', colocate_with => 'tenants');
    END LOOP;
END
$$;
