namespace Platform.Drivers.Sessions;

/// <summary>Represents one database transaction with its tenant and user scope; engines open and commit it, drivers only use it.</summary>
public interface IDbSession : IAsyncDisposable
{
    /// <summary>Gets the tenant whose rows this transaction may see, or null for none.</summary>
    Guid? TenantId { get; }

    /// <summary>Gets the user on whose behalf this transaction runs, or null for none.</summary>
    Guid? UserId { get; }

    /// <summary>Commits the transaction; disposing without committing rolls it back.</summary>
    Task CommitAsync(CancellationToken cancellationToken);
}

/// <summary>Opens sessions on the service's (row-level-security bound) connection role.</summary>
public interface IDbSessionFactory
{
    /// <summary>Opens a connection, begins a transaction and sets app.tenant_id and app.user_id transaction-locally.</summary>
    Task<IDbSession> OpenAsync(Guid? tenantId, Guid? userId, CancellationToken cancellationToken);

    /// <summary>Opens a connection and begins a transaction whose app.tenant_id and app.user_id are sent together with its first statement, which must be a tenant read that supports it (ITenantDriver.FetchTenantAsync or FetchAccessAsync); any other statement first is refused.</summary>
    Task<IDbSession> OpenScopePendingAsync(Guid tenantId, Guid? userId, CancellationToken cancellationToken);

    /// <summary>Opens the start-up warm-up's sandbox: one transaction that is always rolled back, in which the sessions of the flows run
    /// inside it are savepoints (ADR 0815).</summary>
    Task<WarmUpSandbox> OpenWarmUpSandboxAsync(CancellationToken cancellationToken);
}
