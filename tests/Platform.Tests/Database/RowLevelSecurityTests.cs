using Npgsql;

namespace Platform.Tests.Database;

/// <summary>Proves the database lock on its own, with the service role and no application code in the way.</summary>
public sealed class RowLevelSecurityTests : DatabaseTest
{
    private Guid tenantA;
    private Guid tenantB;
    private TestUser userA = null!;

    [SetUp]
    public async Task TwoTenantsAsync()
    {
        userA = await TestApi.SignUpAsync();
        var userB = await TestApi.SignUpAsync();
        tenantA = await TestApi.CreateTenantAsync(userA);
        tenantB = await TestApi.CreateTenantAsync(userB);
    }

    [TestCase("tenants")]
    [TestCase("memberships")]
    [TestCase("audit_log")]
    public async Task A_query_with_no_tenant_set_returns_no_rows(string table)
    {
        await using var connection = await OpenAppAsync();
        Assert.That(await ScalarAsync<long>(connection, null, $"SELECT count(*) FROM {table}"), Is.Zero);
    }

    [Test]
    public async Task The_owner_role_also_sees_no_rows_under_force()
    {
        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        Assert.That(await ScalarAsync<long>(connection, null, "SELECT count(*) FROM tenants"), Is.Zero);
    }

    [Test]
    public async Task Tenant_A_session_reads_only_its_own_rows()
    {
        await using var connection = await OpenAppAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScopeAsync(connection, tx, tenantA);
        Assert.Multiple(async () =>
        {
            Assert.That(await ScalarAsync<long>(connection, tx, "SELECT count(*) FROM tenants"), Is.EqualTo(1));
            Assert.That(await ScalarAsync<long>(connection, tx, $"SELECT count(*) FROM tenants WHERE id = '{tenantB}'"), Is.Zero);
            Assert.That(await ScalarAsync<long>(connection, tx, $"SELECT count(*) FROM memberships WHERE tenant_id = '{tenantB}'"), Is.Zero);
            Assert.That(await ScalarAsync<long>(connection, tx, "SELECT count(*) FROM memberships"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Tenant_A_session_cannot_update_or_delete_tenant_B_rows()
    {
        await using var connection = await OpenAppAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScopeAsync(connection, tx, tenantA);
        await using var update = new NpgsqlCommand($"UPDATE tenants SET name = 'hijacked' WHERE id = '{tenantB}'", connection, tx);
        await using var delete = new NpgsqlCommand($"DELETE FROM memberships WHERE tenant_id = '{tenantB}'", connection, tx);
        Assert.Multiple(async () =>
        {
            Assert.That(await update.ExecuteNonQueryAsync(), Is.Zero);
            Assert.That(await delete.ExecuteNonQueryAsync(), Is.Zero);
        });
    }

    [Test]
    public async Task Tenant_A_session_cannot_insert_a_row_for_tenant_B()
    {
        await using var connection = await OpenAppAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScopeAsync(connection, tx, tenantA);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO memberships (tenant_id, user_id, role) VALUES ('{tenantB}', '{userA.Id}', 'owner')", connection, tx);
        var error = Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.That(error!.SqlState, Is.EqualTo("42501"));
    }

    [Test]
    public async Task Moving_a_row_to_another_tenant_is_refused()
    {
        await using var connection = await OpenAppAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScopeAsync(connection, tx, tenantA);
        await using var move = new NpgsqlCommand($"UPDATE memberships SET tenant_id = '{tenantB}'", connection, tx);
        var error = Assert.ThrowsAsync<PostgresException>(() => move.ExecuteNonQueryAsync());
        Assert.That(error!.SqlState, Is.EqualTo("42501"));
    }

    [Test]
    public async Task The_tenant_setting_does_not_outlive_its_transaction_on_a_pooled_connection()
    {
        await using (var connection = await OpenAppAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            await ScopeAsync(connection, tx, tenantA);
            await tx.CommitAsync();
        }
        // Same pool, likely the same physical connection: the setting is gone.
        await using var again = await OpenAppAsync();
        Assert.That(await ScalarAsync<long>(again, null, "SELECT count(*) FROM tenants"), Is.Zero);
    }

    [Test]
    public async Task Users_are_visible_only_to_themselves_and_co_members()
    {
        var stranger = await TestApi.SignUpAsync();
        await using var connection = await OpenAppAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScopeAsync(connection, tx, tenantA, userA.Id);
        Assert.Multiple(async () =>
        {
            Assert.That(await ScalarAsync<long>(connection, tx, $"SELECT count(*) FROM users WHERE id = '{userA.Id}'"), Is.EqualTo(1));
            Assert.That(await ScalarAsync<long>(connection, tx, $"SELECT count(*) FROM users WHERE id = '{stranger.Id}'"), Is.Zero);
        });
    }

    [Test]
    public async Task The_slug_registry_is_not_readable_by_the_service_role()
    {
        await using var connection = await OpenAppAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM tenant_slugs", connection);
        var error = Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.That(error!.SqlState, Is.EqualTo("42501"));
    }

    [Test]
    public async Task The_service_role_owns_nothing_and_cannot_bypass_row_security()
    {
        await using var connection = await OpenAppAsync();
        var flags = await ScalarAsync<string>(connection, null,
            "SELECT rolsuper::text || rolbypassrls::text || rolcreaterole::text FROM pg_roles WHERE rolname = current_user");
        var owned = await ScalarAsync<long>(connection, null,
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user");
        Assert.Multiple(() =>
        {
            Assert.That(flags, Is.EqualTo("falsefalsefalse"));
            Assert.That(owned, Is.Zero);
        });
    }

    [Test]
    public async Task Every_table_with_a_tenant_id_has_forced_row_level_security()
    {
        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        var unprotected = await ScalarAsync<string>(connection, null,
            """
            SELECT coalesce(string_agg(c.relname, ', '), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                   OR c.relname = 'tenants')
              AND c.relname <> 'tenant_slugs'
              AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """);
        Assert.That(unprotected, Is.Empty, "tables without ENABLE + FORCE ROW LEVEL SECURITY");
    }

    private static async Task<NpgsqlConnection> OpenAppAsync()
    {
        var connection = new NpgsqlConnection(DatabaseFixture.AppConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ScopeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid tenantId, Guid? userId = null)
    {
        await using var command = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true), set_config('app.user_id', @u, true)", connection, tx);
        command.Parameters.AddWithValue("t", tenantId.ToString());
        command.Parameters.AddWithValue("u", userId?.ToString() ?? "");
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
