using Npgsql;

namespace Platform.Tests.Testing;

/// <summary>Is one transaction on the test database inside a tenant's row-level-security scope, as the schema owner or as the service's role.</summary>
/// <remarks>
/// Set-up and checks that go around the API open one of these instead of repeating the set_config preamble; every value goes in
/// as a parameter. Disposing without <see cref="CommitAsync"/> rolls back.
/// </remarks>
public sealed class TenantScope : IAsyncDisposable
{
    private TenantScope(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>Gets the open connection.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>Gets the transaction that holds the scope (app.tenant_id is transaction-local).</summary>
    public NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a transaction as the schema owner with app.tenant_id set to the tenant.</summary>
    public static Task<TenantScope> OwnerAsync(Guid tenantId) =>
        OpenAsync(DatabaseFixture.OwnerConnectionString, "SELECT set_config('app.tenant_id', @t, true)", tenantId.ToString(), null);

    /// <summary>Opens a transaction as the schema owner with app.tenant_id and app.user_id set (either may be null: an empty setting).</summary>
    public static Task<TenantScope> OwnerAsync(Guid? tenantId, Guid? userId) =>
        OpenAsync(DatabaseFixture.OwnerConnectionString, "SELECT set_config('app.tenant_id', @t, true), set_config('app.user_id', @u, true)",
            tenantId?.ToString() ?? "", userId?.ToString() ?? "");

    /// <summary>Opens a transaction as the service's role (platform_app, subject to row-level security) with app.tenant_id set to the tenant.</summary>
    public static Task<TenantScope> AppAsync(Guid tenantId) =>
        OpenAsync(DatabaseFixture.AppConnectionString, "SELECT set_config('app.tenant_id', @t, true)", tenantId.ToString(), null);

    /// <summary>Returns a command in the scope's transaction with the parameters bound.</summary>
    public NpgsqlCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, Connection, Transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    /// <summary>Runs a statement and returns the number of rows it touched.</summary>
    public async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query and returns the first column of its first row (null when there is none).</summary>
    public async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Commits the transaction.</summary>
    public Task CommitAsync() => Transaction.CommitAsync();

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }

    private static async Task<TenantScope> OpenAsync(string connectionString, string setConfig, string tenant, string? user)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using (var scope = new NpgsqlCommand(setConfig, connection, transaction))
            {
                scope.Parameters.AddWithValue("t", tenant);
                if (user is not null)
                {
                    scope.Parameters.AddWithValue("u", user);
                }
                await scope.ExecuteNonQueryAsync();
            }
            return new TenantScope(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
