using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Users;

namespace Platform.Drivers.Users;

/// <summary>Reads and writes a user's sessions, one-time tokens, security events and profile; the anonymous paths (refresh, token use) go through platform_xt functions that find rows by a token hash only.</summary>
public interface IAccountDriver
{
    Task InsertSessionAsync(IDbSession session, NewUserSession row, CancellationToken cancellationToken);

    /// <summary>Rotates a refresh token by its hash (rotate_refresh_token): one statement under the session row's lock.</summary>
    Task<RefreshResult> RotateRefreshTokenAsync(IDbSession session, byte[] hash, byte[] newHash, DateTimeOffset now, int idleSeconds, CancellationToken cancellationToken);

    /// <summary>Gets the session id and user of a live refresh token, or null.</summary>
    Task<(Guid SessionId, Guid UserId)?> FindSessionByRefreshHashAsync(IDbSession session, byte[] hash, CancellationToken cancellationToken);

    /// <summary>Says whether the session's own user has this session unrevoked and is active (the absolute end is enforced at refresh: an access token outlives it by at most its own lifetime).</summary>
    Task<bool> IsSessionLiveAsync(IDbSession session, Guid sessionId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists the session's own user's live sessions, newest first (at most 1,000).</summary>
    Task<IReadOnlyList<UserSessionSnapshot>> ListLiveSessionsAsync(IDbSession session, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Revokes one live session of the session's own user; false when there is none with that id.</summary>
    Task<bool> RevokeSessionAsync(IDbSession session, Guid sessionId, DateTimeOffset now, string reason, CancellationToken cancellationToken);

    /// <summary>Revokes every live session of the session's own user except one (or none); returns the revoked ids.</summary>
    Task<IReadOnlyList<Guid>> RevokeAllSessionsAsync(IDbSession session, Guid userId, Guid? except, DateTimeOffset now, string reason, CancellationToken cancellationToken);

    Task InsertTokenAsync(IDbSession session, byte[] hash, Guid userId, AccountTokenPurpose purpose, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Uses a one-time token (use_account_token); returns its user, or null when it is unknown, used, expired or of another purpose.</summary>
    Task<Guid?> UseTokenAsync(IDbSession session, byte[] hash, AccountTokenPurpose purpose, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks the user's email verified (keeping an earlier time); false when the row is not the session's own active user.</summary>
    Task<bool> MarkEmailVerifiedAsync(IDbSession session, Guid userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gets the password hash of the session's own user, or null.</summary>
    Task<string?> FetchPasswordHashAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Replaces the password hash of the session's own active user; false when there is none.</summary>
    Task<bool> SetPasswordHashAsync(IDbSession session, Guid userId, string hash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Applies a profile change to the session's own active user; false when there is none.</summary>
    Task<bool> UpdateProfileAsync(IDbSession session, ProfileChange change, CancellationToken cancellationToken);

    /// <summary>Says whether the user is a member of the session's tenant (a live one).</summary>
    Task<bool> IsMemberOfSessionTenantAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);

    /// <summary>Records a security event of the session's own user.</summary>
    Task RecordEventAsync(IDbSession session, Guid userId, string action, Guid? sessionId, string? ip, string? userAgent, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class AccountDriver : IAccountDriver
{
    public async Task InsertSessionAsync(IDbSession session, NewUserSession row, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO user_sessions (id, user_id, refresh_hash, created_at, last_used_at, expires_at, user_agent, ip)
            VALUES (@Id, @UserId, @RefreshHash, @Now, @Now, @ExpiresAt, @UserAgent, @Ip)
            """, row, cancellationToken);
    }

    public async Task<RefreshResult> RotateRefreshTokenAsync(
        IDbSession session, byte[] hash, byte[] newHash, DateTimeOffset now, int idleSeconds, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<RotationRow>(
            "SELECT outcome, session_id, user_id FROM rotate_refresh_token(@hash, @newHash, @now, @idleSeconds)",
            new { hash, newHash, now, idleSeconds }, cancellationToken);
        return new RefreshResult(WireNames.Parse<RefreshOutcome>(row.Outcome), row.SessionId, row.UserId);
    }

    public async Task<(Guid SessionId, Guid UserId)?> FindSessionByRefreshHashAsync(IDbSession session, byte[] hash, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<SessionUserRow>(
            "SELECT session_id, user_id FROM session_by_refresh_hash(@hash)", new { hash }, cancellationToken);
        return row is null ? null : (row.SessionId, row.UserId);
    }

    public async Task<bool> IsSessionLiveAsync(IDbSession session, Guid sessionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleAsync<bool>(
            """
            SELECT EXISTS (
                SELECT 1 FROM user_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id = @sessionId AND s.revoked_at IS NULL AND u.status = 'active')
            """, new { sessionId, now }, cancellationToken);
    }

    public async Task<IReadOnlyList<UserSessionSnapshot>> ListLiveSessionsAsync(IDbSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT id, created_at, last_used_at, user_agent, ip FROM user_sessions
            WHERE revoked_at IS NULL AND expires_at > @now
            ORDER BY created_at DESC, id DESC
            LIMIT 1000
            """, new { now },
            (SessionRow r) => new UserSessionSnapshot(r.Id, r.CreatedAt.ToUtcOffset(), r.LastUsedAt.ToUtcOffset(), r.UserAgent, r.Ip), cancellationToken);
    }

    public async Task<bool> RevokeSessionAsync(IDbSession session, Guid sessionId, DateTimeOffset now, string reason, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "UPDATE user_sessions SET revoked_at = @now, revoked_reason = @reason WHERE id = @sessionId AND revoked_at IS NULL",
            new { sessionId, now, reason }, cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<Guid>> RevokeAllSessionsAsync(
        IDbSession session, Guid userId, Guid? except, DateTimeOffset now, string reason, CancellationToken cancellationToken)
    {
        var ids = await session.QueryAsync<Guid>(
            """
            UPDATE user_sessions SET revoked_at = @now, revoked_reason = @reason
            WHERE user_id = @userId AND revoked_at IS NULL AND id IS DISTINCT FROM @except
            RETURNING id
            """, new { userId, except, now, reason }, cancellationToken);
        return ids.ToList();
    }

    public async Task InsertTokenAsync(
        IDbSession session, byte[] hash, Guid userId, AccountTokenPurpose purpose, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at)
            VALUES (@hash, @userId, @purpose, @now, @expiresAt)
            """, new { hash, userId, purpose = purpose.ToWire(), now, expiresAt }, cancellationToken);
    }

    public async Task<Guid?> UseTokenAsync(IDbSession session, byte[] hash, AccountTokenPurpose purpose, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT use_account_token(@hash, @purpose, @now)", new { hash, purpose = purpose.ToWire(), now }, cancellationToken);
    }

    public async Task<bool> MarkEmailVerifiedAsync(IDbSession session, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            UPDATE users SET email_verified_at = coalesce(email_verified_at, @now), updated_at = @now
            WHERE id = @userId AND status = 'active'
            """, new { userId, now }, cancellationToken) == 1;
    }

    public async Task<string?> FetchPasswordHashAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<string?>(
            "SELECT password_hash FROM users WHERE id = @userId AND status = 'active'", new { userId }, cancellationToken);
    }

    public async Task<bool> SetPasswordHashAsync(IDbSession session, Guid userId, string hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "UPDATE users SET password_hash = @hash, updated_at = @now WHERE id = @userId AND status = 'active'",
            new { userId, hash, now }, cancellationToken) == 1;
    }

    public async Task<bool> UpdateProfileAsync(IDbSession session, ProfileChange change, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            UPDATE users SET
                name = CASE WHEN @SetName THEN @Name ELSE name END,
                avatar_url = CASE WHEN @SetAvatarUrl THEN @AvatarUrl ELSE avatar_url END,
                preferences = CASE WHEN @SetPreferences THEN @PreferencesJson::jsonb ELSE preferences END,
                default_tenant_id = CASE WHEN @SetDefaultTenant THEN @DefaultTenantId ELSE default_tenant_id END,
                updated_at = @Now
            WHERE id = @UserId AND status = 'active'
            """, change, cancellationToken) == 1;
    }

    public async Task<bool> IsMemberOfSessionTenantAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleAsync<bool>(
            """
            SELECT EXISTS (
                SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                WHERE m.tenant_id = @tenantId AND m.user_id = @userId AND t.status <> 'deleted')
            """, new { tenantId, userId }, cancellationToken);
    }

    public async Task RecordEventAsync(
        IDbSession session, Guid userId, string action, Guid? sessionId, string? ip, string? userAgent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO account_events (id, user_id, action, session_id, ip, user_agent, occurred_at)
            VALUES (@id, @userId, @action, @sessionId, left(@ip, 64), left(@userAgent, 512), @now)
            """, new { id = Guid.CreateVersion7(), userId, action, sessionId, ip, userAgent, now }, cancellationToken);
    }

    private sealed class RotationRow
    {
        public string Outcome { get; init; } = "";
        public Guid? SessionId { get; init; }
        public Guid? UserId { get; init; }
    }

    private sealed class SessionUserRow
    {
        public Guid SessionId { get; init; }
        public Guid UserId { get; init; }
    }

    private sealed class SessionRow
    {
        public Guid Id { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime LastUsedAt { get; init; }
        public string? UserAgent { get; init; }
        public string? Ip { get; init; }
    }
}
