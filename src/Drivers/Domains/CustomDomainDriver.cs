using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Domains;

namespace Platform.Drivers.Domains;

/// <summary>Reads and writes a tenant's custom domains, claims names in the global registry, and finds domains across tenants through the named
/// SECURITY DEFINER functions (verified name to tenant, domains due for a re-check).</summary>
public interface ICustomDomainDriver
{
    /// <summary>Lists the tenant's domains by name.</summary>
    Task<IReadOnlyList<CustomDomain>> ListDomainsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Fetches one of the tenant's domains, or null.</summary>
    Task<CustomDomain?> FetchDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken);

    /// <summary>Fetches one of the tenant's domains and locks its row until the transaction ends, or null.</summary>
    Task<CustomDomain?> LockDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken);

    /// <summary>Counts the tenant's domains.</summary>
    Task<int> CountDomainsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts a pending domain and claims its name for it; returns null (and inserts nothing the caller keeps) when another domain holds the name.</summary>
    Task<CustomDomain?> InsertDomainAsync(IDbSession session, NewCustomDomain domain, CancellationToken cancellationToken);

    /// <summary>Records a check: the new status, when it was checked, since when the record is missing (null: present), the error, and verified_at
    /// when it became verified now.</summary>
    Task<CustomDomain> RecordCheckAsync(
        IDbSession session, Guid tenantId, Guid domainId, DomainStatus status, DateTimeOffset checkedAt, DateTimeOffset? missingSince, string? error,
        DateTimeOffset? verifiedAt, CancellationToken cancellationToken);

    /// <summary>Deletes the domain and releases its name; false when the tenant has no such domain.</summary>
    Task<bool> DeleteDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken);

    /// <summary>Records a TLS probe's outcome on the domain's row (ssl_status, the certificate's end, when it was probed); returns the domain, or null when it is gone.</summary>
    Task<CustomDomain?> RecordSslAsync(
        IDbSession session, Guid tenantId, Guid domainId, SslStatus status, DateTimeOffset? expiresAt, DateTimeOffset checkedAt, CancellationToken cancellationToken);

    /// <summary>Finds the tenant (and domain) of a verified domain name of a tenant not deleted, or null.</summary>
    Task<(Guid TenantId, Guid DomainId)?> FindVerifiedTenantAsync(IDbSession session, string name, CancellationToken cancellationToken);

    /// <summary>Reads the tenant's name and the emails of its owners and admins.</summary>
    Task<(string TenantName, IReadOnlyList<string> Emails)> AdminEmailsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Lists verified domains (of any tenant) last checked before the given time, the oldest first.</summary>
    Task<IReadOnlyList<(Guid TenantId, Guid DomainId)>> ListDueForRecheckAsync(IDbSession session, DateTimeOffset checkedBefore, int limit, CancellationToken cancellationToken);
}

internal sealed class CustomDomainDriver : ICustomDomainDriver
{
    private const string Columns =
        "id, tenant_id, name, status, ssl_status, verification_token, verified_at, last_checked_at, missing_since, last_error, created_at, ssl_expires_at, ssl_checked_at";

    public Task<IReadOnlyList<CustomDomain>> ListDomainsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken) =>
        session.ListAsync($"SELECT {Columns} FROM custom_domains WHERE tenant_id = @tenantId ORDER BY name", new { tenantId }, (Row r) => r.ToDomain(), cancellationToken);

    public Task<CustomDomain?> FetchDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken) =>
        session.FetchAsync($"SELECT {Columns} FROM custom_domains WHERE tenant_id = @tenantId AND id = @domainId", new { tenantId, domainId },
            (Row r) => r.ToDomain(), cancellationToken);

    public Task<CustomDomain?> LockDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken) =>
        session.FetchAsync($"SELECT {Columns} FROM custom_domains WHERE tenant_id = @tenantId AND id = @domainId FOR UPDATE", new { tenantId, domainId },
            (Row r) => r.ToDomain(), cancellationToken);

    public async Task<int> CountDomainsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<int>("SELECT count(*)::int FROM custom_domains WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken);

    public async Task<CustomDomain?> InsertDomainAsync(IDbSession session, NewCustomDomain domain, CancellationToken cancellationToken)
    {
        var inserted = await session.FetchAsync(
            $"""
            INSERT INTO custom_domains (tenant_id, id, name, verification_token, created_by, created_at)
            VALUES (@TenantId, @Id, @Name, @VerificationToken, @CreatedBy, @Now)
            ON CONFLICT (tenant_id, name) DO NOTHING
            RETURNING {Columns}
            """,
            domain, (Row r) => r.ToDomain(), cancellationToken);
        if (inserted is null)
        {
            return null;
        }
        var claimed = await session.ExecuteScalarAsync<bool>("SELECT claim_custom_domain(@Name, @Id)", new { domain.Name, domain.Id }, cancellationToken);
        return claimed ? inserted : null;
    }

    public async Task<CustomDomain> RecordCheckAsync(
        IDbSession session, Guid tenantId, Guid domainId, DomainStatus status, DateTimeOffset checkedAt, DateTimeOffset? missingSince, string? error,
        DateTimeOffset? verifiedAt, CancellationToken cancellationToken) =>
        await session.FetchAsync(
            $"""
            UPDATE custom_domains SET status = @status, last_checked_at = @checkedAt, missing_since = @missingSince, last_error = left(@error, 500),
                verified_at = coalesce(@verifiedAt, verified_at)
            WHERE tenant_id = @tenantId AND id = @domainId
            RETURNING {Columns}
            """,
            new { tenantId, domainId, status = status.ToWire(), checkedAt, missingSince, error, verifiedAt }, (Row r) => r.ToDomain(), cancellationToken)
        ?? throw new InvalidOperationException("The domain row disappeared under its lock.");

    public async Task<CustomDomain?> RecordSslAsync(
        IDbSession session, Guid tenantId, Guid domainId, SslStatus status, DateTimeOffset? expiresAt, DateTimeOffset checkedAt, CancellationToken cancellationToken) =>
        await session.FetchAsync(
            $"""
            UPDATE custom_domains SET ssl_status = @status, ssl_expires_at = @expiresAt, ssl_checked_at = @checkedAt
            WHERE tenant_id = @tenantId AND id = @domainId
            RETURNING {Columns}
            """,
            new { tenantId, domainId, status = status.ToWire(), expiresAt, checkedAt }, (Row r) => r.ToDomain(), cancellationToken);

    public async Task<bool> DeleteDomainAsync(IDbSession session, Guid tenantId, Guid domainId, CancellationToken cancellationToken)
    {
        var name = await session.QuerySingleOrDefaultAsync<string>(
            "DELETE FROM custom_domains WHERE tenant_id = @tenantId AND id = @domainId RETURNING name", new { tenantId, domainId }, cancellationToken);
        if (name is null)
        {
            return false;
        }
        await session.ExecuteAsync("SELECT release_custom_domain(@name)", new { name }, cancellationToken);
        return true;
    }

    public async Task<(Guid TenantId, Guid DomainId)?> FindVerifiedTenantAsync(IDbSession session, string name, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<TenantDomainRow>(
            "SELECT tenant_id, domain_id FROM verified_custom_domain_tenant(@name)", new { name }, cancellationToken);
        return row is null ? null : (row.TenantId, row.DomainId);
    }

    public async Task<IReadOnlyList<(Guid TenantId, Guid DomainId)>> ListDueForRecheckAsync(
        IDbSession session, DateTimeOffset checkedBefore, int limit, CancellationToken cancellationToken) =>
        await session.ListAsync("SELECT tenant_id, domain_id FROM custom_domains_to_recheck(@checkedBefore, @limit)", new { checkedBefore, limit },
            (TenantDomainRow r) => (r.TenantId, r.DomainId), cancellationToken);

    public async Task<(string TenantName, IReadOnlyList<string> Emails)> AdminEmailsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<AdminsRow>(
            """
            SELECT t.name AS tenant_name,
                   coalesce(array_agg(u.email::text ORDER BY u.email) FILTER (WHERE u.id IS NOT NULL), '{}') AS emails
            FROM tenants t
            LEFT JOIN memberships m ON m.tenant_id = t.id AND m.role IN ('owner', 'admin')
            LEFT JOIN users u ON u.id = m.user_id
            WHERE t.id = @tenantId
            GROUP BY t.name
            """,
            new { tenantId }, cancellationToken);
        return row is null ? ("", []) : (row.TenantName, row.Emails);
    }

    private sealed class AdminsRow
    {
        public string TenantName { get; init; } = "";
        public string[] Emails { get; init; } = [];
    }

    private sealed class TenantDomainRow
    {
        public Guid TenantId { get; init; }
        public Guid DomainId { get; init; }
    }

    private sealed class Row
    {
        public Guid Id { get; init; }
        public Guid TenantId { get; init; }
        public string Name { get; init; } = "";
        public string Status { get; init; } = "";
        public string SslStatus { get; init; } = "";
        public string VerificationToken { get; init; } = "";
        public DateTime? VerifiedAt { get; init; }
        public DateTime? LastCheckedAt { get; init; }
        public DateTime? MissingSince { get; init; }
        public string? LastError { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? SslExpiresAt { get; init; }
        public DateTime? SslCheckedAt { get; init; }

        public CustomDomain ToDomain() => new(Id, TenantId, Name, WireNames.Parse<DomainStatus>(Status), WireNames.Parse<SslStatus>(SslStatus),
            VerificationToken, VerifiedAt.ToUtcOffset(), LastCheckedAt.ToUtcOffset(), MissingSince.ToUtcOffset(), LastError, CreatedAt.ToUtcOffset(),
            SslExpiresAt.ToUtcOffset(), SslCheckedAt.ToUtcOffset());
    }
}
