using System.Data;
using Dapper;
using Npgsql;

namespace Platform.Drivers.Sessions;

internal sealed class NpgsqlDbSession(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid? tenantId, Guid? userId)
    : IDbSession
{
    public NpgsqlConnection Connection { get; } = connection;

    public NpgsqlTransaction Transaction { get; } = transaction;

    public Guid? TenantId { get; } = tenantId;

    public Guid? UserId { get; } = userId;

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, Transaction, commandType: CommandType.Text, cancellationToken: cancellationToken);
}

internal sealed class NpgsqlDbSessionFactory(NpgsqlDataSource dataSource) : IDbSessionFactory
{
    public async Task<IDbSession> OpenAsync(Guid? tenantId, Guid? userId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var session = new NpgsqlDbSession(connection, transaction, tenantId, userId);
            if (tenantId is not null || userId is not null)
            {
                // Transaction-local (third argument true): never leaks to the next user of a pooled connection.
                await connection.ExecuteAsync(session.Command(
                    "SELECT set_config('app.tenant_id', @tenant, true), set_config('app.user_id', @user, true)",
                    new { tenant = tenantId?.ToString() ?? "", user = userId?.ToString() ?? "" },
                    cancellationToken));
            }
            return session;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

internal static class SessionExtensions
{
    /// <summary>Gets the Npgsql session behind the abstraction; every session here is one.</summary>
    public static NpgsqlDbSession Npgsql(this IDbSession session) =>
        session as NpgsqlDbSession ?? throw new InvalidOperationException("The session was not opened by NpgsqlDbSessionFactory.");
}
