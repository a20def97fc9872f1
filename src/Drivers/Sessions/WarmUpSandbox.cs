using Npgsql;

namespace Platform.Drivers.Sessions;

/// <summary>Is one database transaction that is always rolled back, in which the start-up warm-up runs the service's success paths for real
/// (sign-up, a tenant, a key, admissions, completions, usage) so that their code is compiled before the first caller needs it (ADR 0815).
/// A flow that entered it gets every session it opens on this transaction, each under its own savepoint: a session's commit releases its
/// savepoint, its rollback (or a dispose without commit) returns to it, and disposing the sandbox rolls everything back. Nothing it writes is
/// ever committed, so no other transaction sees any of it (the rows it locks are its own new rows and the counters of the throttles it
/// passes). One flow at a time may use it (<see cref="RunAsync"/>): a connection runs one statement at a time.</summary>
public sealed class WarmUpSandbox : IAsyncDisposable
{
    private static readonly AsyncLocal<Lease?> Current = new();

    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;
    private readonly SemaphoreSlim turn = new(1, 1);
    private int savepoints;
    private bool disposed;

    private WarmUpSandbox(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        this.connection = connection;
        this.transaction = transaction;
    }

    /// <summary>Gets whether the current flow runs inside a sandbox: what it does is rolled back, so in-memory effects that outlive the request
    /// (counters flushed later, caches of credentials, metrics) must not take it in.</summary>
    public static bool Active => Current.Value is { Live: true };

    /// <summary>Is how long a flow waits for its turn before giving up (a warm-up request then fails, and the warm-up goes on without it).</summary>
    internal static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(10);

    internal static async Task<WarmUpSandbox> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            return new WarmUpSandbox(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the work with every session it opens (directly or in what it awaits) in this sandbox, after waiting for the flows before it
    /// to leave: one flow at a time, so that nothing ever waits for a turn that its own flow holds.</summary>
    public async Task RunAsync(Func<Task> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!await turn.WaitAsync(TurnTimeout, cancellationToken))
        {
            throw new TimeoutException("The warm-up sandbox stayed busy; this warm-up work gives up.");
        }
        // Set inside this async method, so it flows into the work and is undone when the method returns. Whatever the work leaves running
        // (a timer or a task that captured this flow's context) carries the lease on: once the turn ends the lease is dead and such work opens
        // ordinary sessions, never the sandbox's connection while another flow has its turn.
        var lease = new Lease(this);
        try
        {
            Current.Value = lease;
            await work();
        }
        finally
        {
            lease.Live = false;
            Current.Value = null;
            turn.Release();
        }
    }

    /// <summary>Gets the sandbox the current flow entered, if any.</summary>
    internal static WarmUpSandbox? Of() => Current.Value is { Live: true } lease ? lease.Sandbox : null;

    /// <summary>Opens a session on the sandbox's transaction under a new savepoint, scoped like any session (app.tenant_id, app.user_id).</summary>
    internal async Task<IDbSession> OpenSessionAsync(Guid? tenantId, Guid? userId, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var savepoint = new Savepoint(transaction, "warm_up_" + Interlocked.Increment(ref savepoints));
        await transaction.SaveAsync(savepoint.Name, cancellationToken);
        var session = new NpgsqlDbSession(connection, transaction, tenantId, userId, savepoint);
        try
        {
            // Always set, also to nothing: a released savepoint keeps the settings of the session before it.
            await session.ExecuteAsync(session.Command(
                NpgsqlDbSessionFactory.ScopeSql, new { tenant = tenantId?.ToString() ?? "", user = userId?.ToString() ?? "" }, cancellationToken));
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Rolls the whole sandbox back and gives its connection back to the pool, after the flow inside it (if any) left or its turn timed out.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }
        var had = await turn.WaitAsync(TurnTimeout);
        disposed = true;
        try
        {
            await transaction.DisposeAsync();
        }
        finally
        {
            await connection.DisposeAsync();
            if (had)
            {
                turn.Release();
            }
        }
    }

    /// <summary>Is one flow's turn in the sandbox; live until the turn ends.</summary>
    private sealed class Lease(WarmUpSandbox sandbox)
    {
        public WarmUpSandbox Sandbox { get; } = sandbox;

        private volatile bool live = true;

        public bool Live
        {
            get => live;
            set => live = value;
        }
    }

    /// <summary>Is one session's savepoint: released by its commit, returned to (and released) when it ends without one.</summary>
    internal sealed class Savepoint(NpgsqlTransaction transaction, string name)
    {
        private bool released;

        public string Name { get; } = name;

        public async Task ReleaseAsync(CancellationToken cancellationToken)
        {
            await transaction.ReleaseAsync(Name, cancellationToken);
            released = true;
        }

        public async Task EndAsync()
        {
            if (released)
            {
                return;
            }
            await transaction.RollbackAsync(Name);
            await transaction.ReleaseAsync(Name);
        }
    }
}
