using System.Data;
using Dapper;
using Npgsql;

namespace Platform.Drivers.Sessions;

internal sealed class NpgsqlDbSession(
    NpgsqlConnection connection, NpgsqlTransaction transaction, Guid? tenantId, Guid? userId, WarmUpSandbox.Savepoint? savepoint = null)
    : IDbSession
{
    public NpgsqlConnection Connection { get; } = connection;

    public NpgsqlTransaction Transaction { get; } = transaction;

    public Guid? TenantId { get; } = tenantId;

    public Guid? UserId { get; } = userId;

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        // A request holding an Idempotency-Key marks it in the transaction of its effect (ADR 0190).
        await Idempotency.IdempotencyEffect.MarkAsync(this, cancellationToken);
        if (savepoint is not null)
        {
            // In the warm-up sandbox (ADR 0815) a commit only keeps the work for the sandbox's own later sessions; nothing is ever committed.
            await savepoint.ReleaseAsync(cancellationToken);
            return;
        }
        await Transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Gets whether a statement of this session failed (in PostgreSQL, in Npgsql or while reading its rows); the connection's prepared statements are then reset before it goes back to the pool (ADR 0170).</summary>
    public bool Faulted { get; private set; }

    public async ValueTask DisposeAsync()
    {
        if (savepoint is not null)
        {
            // The sandbox's connection and transaction outlive this session: only its savepoint ends (returned to unless committed).
            await savepoint.EndAsync();
            if (Faulted)
            {
                ResetPreparedStatements();
            }
            return;
        }
        try
        {
            await Transaction.DisposeAsync();
            if (Faulted)
            {
                ResetPreparedStatements();
            }
        }
        finally
        {
            await Connection.DisposeAsync();
        }
    }

    /// <summary>Forgets every prepared statement on both sides (DEALLOCATE ALL and Npgsql's own bookkeeping), so that a statement Npgsql wrongly believes prepared cannot fail the connection's next user.</summary>
    /// <remarks>Npgsql 10 marks an auto-prepared statement as prepared when its Parse succeeds, before its RowDescription arrives; a statement that then fails at Bind stays "prepared" without a row description, and its next use on that connection reads a DataRow it does not expect (ADR 0170).</remarks>
    private void ResetPreparedStatements()
    {
        if (Connection.State != ConnectionState.Open)
        {
            return;
        }
        try
        {
            Connection.UnprepareAll();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // A connection that cannot even deallocate is broken; Npgsql then discards it instead of pooling it.
        }
    }

    /// <summary>Runs a Dapper query on this session, remembering a failure (see <see cref="Faulted"/>).</summary>
    public async Task<IEnumerable<T>> QueryAsync<T>(CommandDefinition command)
    {
        try { return await Connection.QueryAsync<T>(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs a Dapper query for at most one row on this session, remembering a failure.</summary>
    public async Task<T?> QuerySingleOrDefaultAsync<T>(CommandDefinition command)
    {
        try { return await Connection.QuerySingleOrDefaultAsync<T>(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs a Dapper query for the first row, if any, on this session, remembering a failure.</summary>
    public async Task<T?> QueryFirstOrDefaultAsync<T>(CommandDefinition command)
    {
        try { return await Connection.QueryFirstOrDefaultAsync<T>(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs a Dapper query for exactly one row on this session, remembering a failure.</summary>
    public async Task<T> QuerySingleAsync<T>(CommandDefinition command)
    {
        try { return await Connection.QuerySingleAsync<T>(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs a Dapper statement on this session and returns the rows it affected, remembering a failure.</summary>
    public async Task<int> ExecuteAsync(CommandDefinition command)
    {
        try { return await Connection.ExecuteAsync(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs a Dapper scalar query on this session, remembering a failure.</summary>
    public async Task<T?> ExecuteScalarAsync<T>(CommandDefinition command)
    {
        try { return await Connection.ExecuteScalarAsync<T>(command); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Runs any other Npgsql work on this session's connection (batches, COPY), remembering a failure.</summary>
    public async Task<T> RunAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work)
    {
        try { return await work(Connection, Transaction); }
        catch { Faulted = true; throw; }
    }

    /// <summary>Gets whether the transaction-local scope still has to be sent (with the first statement, see ReadScopedAsync).</summary>
    public bool ScopePending { get; private set; }

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (ScopePending)
        {
            // Fails closed: nothing may run before app.tenant_id is set (RLS would hide every row anyway).
            throw new InvalidOperationException("The session's tenant scope is not set yet: its first statement must be a scoped tenant read.");
        }
        return new(sql, parameters, Transaction, commandType: CommandType.Text, cancellationToken: cancellationToken);
    }

    /// <summary>Marks the scope as to be sent with the first statement (one round trip instead of two).</summary>
    public void DeferScope() => ScopePending = true;

    /// <summary>Runs a query that returns at most one row; when the scope is pending, sends set_config and the query in one batch (one round trip).</summary>
    public async Task<T?> ReadScopedAsync<T>(string sql, IReadOnlyList<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadScopedCoreAsync<T>(sql, parameters, cancellationToken);
        }
        catch
        {
            Faulted = true;
            throw;
        }
    }

    private async Task<T?> ReadScopedCoreAsync<T>(string sql, IReadOnlyList<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(Connection, Transaction);
        var pending = ScopePending;
        if (pending)
        {
            var scope = new NpgsqlBatchCommand(NpgsqlDbSessionFactory.ScopeSql);
            scope.Parameters.AddWithValue("tenant", TenantId?.ToString() ?? "");
            scope.Parameters.AddWithValue("user", UserId?.ToString() ?? "");
            batch.BatchCommands.Add(scope);
        }
        var query = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            query.Parameters.AddWithValue(name, value);
        }
        batch.BatchCommands.Add(query);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (pending)
        {
            await reader.NextResultAsync(cancellationToken);
            ScopePending = false;
        }
        if (!await reader.ReadAsync(cancellationToken))
        {
            return default;
        }
        var row = reader.GetRowParser<T>()(reader);
        if (await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("The scoped read returned more than one row.");
        }
        return row;
    }
}

internal sealed class NpgsqlDbSessionFactory(NpgsqlDataSource dataSource) : IDbSessionFactory
{
    public const string ScopeSql = "SELECT set_config('app.tenant_id', @tenant, true), set_config('app.user_id', @user, true)";

    public async Task<IDbSession> OpenScopePendingAsync(Guid tenantId, Guid? userId, CancellationToken cancellationToken)
    {
        if (WarmUpSandbox.Of() is { } sandbox)
        {
            return await sandbox.OpenSessionAsync(tenantId, userId, cancellationToken);
        }
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Npgsql sends BEGIN with the first statement, and the scope goes in that statement's batch: one round trip.
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var session = new NpgsqlDbSession(connection, transaction, tenantId, userId);
            session.DeferScope();
            return session;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<IDbSession> OpenAsync(Guid? tenantId, Guid? userId, CancellationToken cancellationToken)
    {
        if (WarmUpSandbox.Of() is { } sandbox)
        {
            return await sandbox.OpenSessionAsync(tenantId, userId, cancellationToken);
        }
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlDbSession session;
        try
        {
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            session = new NpgsqlDbSession(connection, transaction, tenantId, userId);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        if (tenantId is null && userId is null)
        {
            return session;
        }
        try
        {
            // Transaction-local (third argument true): never leaks to the next user of a pooled connection.
            await session.ExecuteAsync(session.Command(
                ScopeSql,
                new { tenant = tenantId?.ToString() ?? "", user = userId?.ToString() ?? "" },
                cancellationToken));
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    public Task<WarmUpSandbox> OpenWarmUpSandboxAsync(CancellationToken cancellationToken) => WarmUpSandbox.OpenAsync(dataSource, cancellationToken);
}

internal static class SessionExtensions
{
    /// <summary>Gets the Npgsql session behind the abstraction; every session here is one.</summary>
    public static NpgsqlDbSession Npgsql(this IDbSession session) =>
        session as NpgsqlDbSession ?? throw new InvalidOperationException("The session was not opened by NpgsqlDbSessionFactory.");
}
