using Npgsql;

namespace Platform.Tests.Database;

/// <summary>Checks the migrated schema against the rules that let db/citus/distribute.sql distribute it by tenant without change.</summary>
public sealed class SchemaRuleTests
{
    private const string TenantTables =
        """
        WITH tenant_tables AS (
            SELECT c.oid, c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'tenants'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
              AND coalesce(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'global%'
        )
        """;

    [Test]
    public async Task Every_tenant_table_keeps_tenant_id_in_its_primary_key()
    {
        var violations = await ListAsync($"""
            {TenantTables}
            SELECT t.relname FROM tenant_tables t
            WHERE NOT EXISTS (
                SELECT 1 FROM pg_constraint k
                JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                WHERE k.conrelid = t.oid AND k.contype = 'p' AND a.attname = 'tenant_id')
            """);
        Assert.That(violations, Is.Empty);
    }

    [Test]
    public async Task Every_unique_index_of_a_tenant_table_includes_tenant_id()
    {
        var violations = await ListAsync($"""
            {TenantTables}
            SELECT t.relname || '.' || i.relname FROM tenant_tables t
            JOIN pg_index x ON x.indrelid = t.oid AND x.indisunique
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE NOT EXISTS (
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'tenant_id' AND a.attnum = ANY (x.indkey))
            """);
        Assert.That(violations, Is.Empty);
    }

    [Test]
    public async Task Every_foreign_key_between_tenant_tables_includes_tenant_id()
    {
        var violations = await ListAsync($"""
            {TenantTables}, targets AS (SELECT oid FROM tenant_tables UNION ALL SELECT 'tenants'::regclass::oid)
            SELECT t.relname || '.' || k.conname FROM tenant_tables t
            JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'f' AND k.confrelid IN (SELECT oid FROM targets)
            WHERE NOT EXISTS (
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'tenant_id' AND a.attnum = ANY (k.conkey))
            """);
        Assert.That(violations, Is.Empty);
    }

    [Test]
    public async Task Tables_without_tenant_id_are_few_and_known_catalogues()
    {
        var global = await ListAsync(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('tenants', 'schemaversions')
              AND (NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                   OR coalesce(obj_description(c.oid, 'pg_class'), '') LIKE 'global%')
            """);
        Assert.That(global, Does.Contain("users").And.Contain("tenant_slugs"));
        var uncommented = await ListAsync(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('tenants', 'schemaversions')
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
              AND coalesce(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'global%'
            """);
        Assert.That(uncommented, Is.Empty, "a table without tenant_id must say why in a COMMENT starting with 'global'");
    }

    [Test]
    public void The_rules_fail_on_a_deliberately_wrong_table()
    {
        Assert.That(async () =>
        {
            await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
            await connection.OpenAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await using (var create = new NpgsqlCommand("CREATE TABLE bad_child (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, code text UNIQUE)", connection, tx))
            {
                await create.ExecuteNonQueryAsync();
            }
            var pk = await ListAsync($"""
                {TenantTables}
                SELECT t.relname FROM tenant_tables t
                WHERE NOT EXISTS (
                    SELECT 1 FROM pg_constraint k
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                    WHERE k.conrelid = t.oid AND k.contype = 'p' AND a.attname = 'tenant_id')
                """, connection, tx);
            await tx.RollbackAsync();
            return pk;
        }, Does.Contain("bad_child"));
    }

    private static async Task<List<string>> ListAsync(string sql, NpgsqlConnection? connection = null, NpgsqlTransaction? tx = null)
    {
        var own = connection is null;
        connection ??= new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        try
        {
            if (own)
            {
                await connection.OpenAsync();
            }
            await using var command = new NpgsqlCommand(sql, connection, tx);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
            return rows;
        }
        finally
        {
            if (own)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
