using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Sso;
using Platform.Models.Tenants;

namespace Platform.Drivers.Sso;

/// <summary>Reads and writes a tenant's SSO settings, its domain claims (through the cross-tenant registry functions), pending sign-ins,
/// one-time sign-in codes and linked IdP identities.</summary>
public interface ISsoDriver
{
    /// <summary>Fetches the tenant's settings with the protected client secret, or null when SSO is not configured.</summary>
    Task<StoredSsoSettings?> FetchSettingsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the tenant's settings.</summary>
    Task UpsertSettingsAsync(IDbSession session, StoredSsoSettings settings, string updatedBy, CancellationToken cancellationToken);

    /// <summary>Deletes the tenant's settings; false when there were none.</summary>
    Task<bool> DeleteSettingsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Makes the session's tenant claim exactly these domains and returns those another tenant holds (the caller must roll back when any).</summary>
    Task<IReadOnlyList<string>> ClaimDomainsAsync(IDbSession session, IReadOnlyList<string> domains, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Returns those of the names that are verified custom domains of the session's tenant (row-level security scopes the read).</summary>
    Task<IReadOnlyList<string>> VerifiedDomainsAsync(IDbSession session, IReadOnlyList<string> names, CancellationToken cancellationToken);

    /// <summary>Finds the tenant that claims an email domain, across tenants, or null.</summary>
    Task<Guid?> FindTenantByDomainAsync(IDbSession session, string domain, CancellationToken cancellationToken);

    /// <summary>Stores a started sign-in under the SHA-256 of its state.</summary>
    Task InsertStateAsync(IDbSession session, byte[] stateHash, SsoSignInState state, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes and returns the unexpired sign-in with this state hash (single use), or null.</summary>
    Task<SsoSignInState?> TakeStateAsync(IDbSession session, Guid tenantId, byte[] stateHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Stores a one-time sign-in code (its SHA-256) for a user.</summary>
    Task InsertCodeAsync(IDbSession session, Guid tenantId, byte[] codeHash, Guid userId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Deletes an unexpired one-time code and returns its user (single use), or null.</summary>
    Task<Guid?> TakeCodeAsync(IDbSession session, Guid tenantId, byte[] codeHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Finds the user linked to an IdP identity in the tenant and records the sign-in time, or null.</summary>
    Task<Guid?> TouchIdentityAsync(IDbSession session, Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Links an IdP identity to a user in the tenant.</summary>
    Task InsertIdentityAsync(IDbSession session, Guid tenantId, string issuer, string subject, Guid userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Finds a user's id and status by email across tenants (whether or not it has a password), or null.</summary>
    Task<(Guid Id, string Status)?> FindUserByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken);

    /// <summary>Inserts a user created by an SSO sign-in: no password, email verified by the IdP; false when the email is taken. The session's user must be the new id.</summary>
    Task<bool> TryInsertSsoUserAsync(IDbSession session, Guid userId, string email, string name, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class SsoDriver : ISsoDriver
{
    private const string SettingsColumns =
        "tenant_id, issuer, client_id, client_secret_protected, domains, default_role, group_claim, group_roles::text AS group_roles, enforce, updated_at";

    public async Task<StoredSsoSettings?> FetchSettingsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {SettingsColumns} FROM tenant_sso_settings WHERE tenant_id = @tenantId", new { tenantId }, (SettingsRow r) => r.ToStored(), cancellationToken);
    }

    public async Task UpsertSettingsAsync(IDbSession session, StoredSsoSettings stored, string updatedBy, CancellationToken cancellationToken)
    {
        var s = stored.Settings;
        await session.ExecuteAsync(
            """
            INSERT INTO tenant_sso_settings (tenant_id, issuer, client_id, client_secret_protected, domains, default_role, group_claim, group_roles,
                                             enforce, updated_by, created_at, updated_at)
            VALUES (@TenantId, @Issuer, @ClientId, @Secret, @Domains, @DefaultRole, @GroupClaim, @GroupRoles::jsonb, @Enforce, @UpdatedBy, @Now, @Now)
            ON CONFLICT (tenant_id) DO UPDATE SET
                issuer = excluded.issuer, client_id = excluded.client_id, client_secret_protected = excluded.client_secret_protected,
                domains = excluded.domains, default_role = excluded.default_role, group_claim = excluded.group_claim,
                group_roles = excluded.group_roles, enforce = excluded.enforce, updated_by = excluded.updated_by, updated_at = excluded.updated_at
            """,
            new
            {
                s.TenantId, s.Issuer, s.ClientId, Secret = stored.ProtectedClientSecret, Domains = s.Domains.ToArray(), DefaultRole = s.DefaultRole.ToWire(),
                s.GroupClaim, GroupRoles = JsonSerializer.Serialize(s.GroupRoles.ToDictionary(p => p.Key, p => p.Value.ToWire())), s.Enforce,
                UpdatedBy = updatedBy, Now = s.UpdatedAt,
            }, cancellationToken);
    }

    public async Task<bool> DeleteSettingsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM tenant_sso_settings WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken) == 1;

    public async Task<IReadOnlyList<string>> ClaimDomainsAsync(IDbSession session, IReadOnlyList<string> domains, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await session.QueryAsync<string>("SELECT domain FROM claim_sso_domains(@domains, @now)", new { domains = domains.ToArray(), now }, cancellationToken)).ToList();

    public async Task<IReadOnlyList<string>> VerifiedDomainsAsync(IDbSession session, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        (await session.QueryAsync<string>(
            "SELECT name FROM custom_domains WHERE name = ANY(@names) AND status = 'verified'", new { names = names.ToArray() }, cancellationToken)).ToList();

    public async Task<Guid?> FindTenantByDomainAsync(IDbSession session, string domain, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<Guid?>("SELECT sso_tenant_by_domain(@domain)", new { domain }, cancellationToken);

    public async Task InsertStateAsync(IDbSession session, byte[] stateHash, SsoSignInState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO sso_sign_in_states (tenant_id, state_hash, protected, redirect_uri, created_at, expires_at)
            VALUES (@TenantId, @stateHash, @ProtectedSecrets, @RedirectUri, @now, @ExpiresAt)
            """,
            new { state.TenantId, stateHash, state.ProtectedSecrets, state.RedirectUri, now, state.ExpiresAt }, cancellationToken);
    }

    public async Task<SsoSignInState?> TakeStateAsync(IDbSession session, Guid tenantId, byte[] stateHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Expired states of the tenant go with it, so the table holds only live sign-ins.
        await session.ExecuteAsync("DELETE FROM sso_sign_in_states WHERE tenant_id = @tenantId AND expires_at <= @now", new { tenantId, now }, cancellationToken);
        return await session.FetchAsync(
            """
            DELETE FROM sso_sign_in_states WHERE tenant_id = @tenantId AND state_hash = @stateHash AND expires_at > @now
            RETURNING tenant_id, protected, redirect_uri, expires_at
            """,
            new { tenantId, stateHash, now }, (StateRow r) => new SsoSignInState(r.TenantId, r.Protected, r.RedirectUri, r.ExpiresAt), cancellationToken);
    }

    public async Task InsertCodeAsync(IDbSession session, Guid tenantId, byte[] codeHash, Guid userId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            DELETE FROM sso_sign_in_codes WHERE tenant_id = @tenantId AND expires_at <= @now;
            INSERT INTO sso_sign_in_codes (tenant_id, code_hash, user_id, created_at, expires_at) VALUES (@tenantId, @codeHash, @userId, @now, @expiresAt)
            """,
            new { tenantId, codeHash, userId, now, expiresAt }, cancellationToken);
    }

    public async Task<Guid?> TakeCodeAsync(IDbSession session, Guid tenantId, byte[] codeHash, DateTimeOffset now, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<Guid?>(
            "DELETE FROM sso_sign_in_codes WHERE tenant_id = @tenantId AND code_hash = @codeHash AND expires_at > @now RETURNING user_id",
            new { tenantId, codeHash, now }, cancellationToken);

    public async Task<Guid?> TouchIdentityAsync(IDbSession session, Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<Guid?>(
            """
            UPDATE sso_identities SET last_login_at = @now
            WHERE tenant_id = @tenantId AND issuer = @issuer AND subject = @subject
            RETURNING user_id
            """,
            new { tenantId, issuer, subject, now }, cancellationToken);

    public async Task InsertIdentityAsync(IDbSession session, Guid tenantId, string issuer, string subject, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO sso_identities (tenant_id, issuer, subject, user_id, created_at, last_login_at) VALUES (@tenantId, @issuer, @subject, @userId, @now, @now)
            ON CONFLICT (tenant_id, issuer, subject) DO UPDATE SET user_id = excluded.user_id, last_login_at = excluded.last_login_at
            """,
            new { tenantId, issuer, subject, userId, now }, cancellationToken);
    }

    public async Task<(Guid Id, string Status)?> FindUserByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<UserRow>("SELECT id, status FROM user_credentials_by_email(@email)", new { email }, cancellationToken);
        return row is null ? null : (row.Id, row.Status);
    }

    public async Task<bool> TryInsertSsoUserAsync(IDbSession session, Guid userId, string email, string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            """
            INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at)
            VALUES (@userId, @email, @name, NULL, @now, @now, @now)
            ON CONFLICT (email) DO NOTHING
            """,
            new { userId, email, name, now }, cancellationToken) == 1;

    private sealed class SettingsRow
    {
        public Guid TenantId { get; init; }
        public string Issuer { get; init; } = "";
        public string ClientId { get; init; } = "";
        public string ClientSecretProtected { get; init; } = "";
        public string[] Domains { get; init; } = [];
        public string DefaultRole { get; init; } = "";
        public string? GroupClaim { get; init; }
        public string GroupRoles { get; init; } = "{}";
        public bool Enforce { get; init; }
        public DateTimeOffset UpdatedAt { get; init; }

        public StoredSsoSettings ToStored() => new(
            new SsoSettings(TenantId, Issuer, ClientId, Domains, WireNames.Parse<TenantRole>(DefaultRole), GroupClaim,
                (JsonSerializer.Deserialize<Dictionary<string, string>>(GroupRoles) ?? []).ToDictionary(p => p.Key, p => WireNames.Parse<TenantRole>(p.Value)),
                Enforce, UpdatedAt),
            ClientSecretProtected);
    }

    private sealed class StateRow
    {
        public Guid TenantId { get; init; }
        public string Protected { get; init; } = "";
        public string RedirectUri { get; init; } = "";
        public DateTimeOffset ExpiresAt { get; init; }
    }

    private sealed class UserRow
    {
        public Guid Id { get; init; }
        public string Status { get; init; } = "";
    }
}
