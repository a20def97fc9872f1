using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Users;

namespace Platform.Drivers.Users;

/// <summary>Reads and writes users; login lookups go through the cross-tenant function user_credentials_by_email.</summary>
public interface IUserDriver
{
    /// <summary>Inserts a user, or returns false when the email is already taken.</summary>
    Task<bool> TryInsertUserAsync(IDbSession session, NewUser user, CancellationToken cancellationToken);

    /// <summary>Fetches a user visible to the session (itself or a co-member), or null.</summary>
    Task<UserSnapshot?> FetchUserAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Fetches the id, password hash and status for an email (case-insensitive), or null.</summary>
    Task<UserCredentials?> FetchCredentialsByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken);

    /// <summary>Records a successful login time on the session's own user.</summary>
    Task RecordLoginAsync(IDbSession session, Guid userId, DateTimeOffset at, CancellationToken cancellationToken);
}

internal sealed class UserDriver : IUserDriver
{
    private const string Columns =
        "id, email::text AS email, name, status, email_verified_at, default_tenant_id, preferences::text AS preferences, last_login_at, created_at, updated_at, avatar_url";

    public async Task<bool> TryInsertUserAsync(IDbSession session, NewUser user, CancellationToken cancellationToken)
    {
        var inserted = await session.ExecuteAsync(
            """
            INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
            VALUES (@Id, @Email, @Name, @PasswordHash, @Now, @Now)
            ON CONFLICT (email) DO NOTHING
            """, user, cancellationToken);
        return inserted == 1;
    }

    public async Task<UserSnapshot?> FetchUserAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM users WHERE id = @userId", new { userId }, (UserRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<UserCredentials?> FetchCredentialsByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<CredentialsRow>(
            "SELECT id, password_hash, status FROM user_credentials_by_email(@email)", new { email }, cancellationToken);
        return row is { PasswordHash: not null } ? new UserCredentials(row.Id, row.PasswordHash, WireNames.Parse<UserStatus>(row.Status)) : null;
    }

    public async Task RecordLoginAsync(IDbSession session, Guid userId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE users SET last_login_at = @at WHERE id = @userId", new { userId, at }, cancellationToken);
    }

    private sealed class CredentialsRow
    {
        public Guid Id { get; init; }
        public string? PasswordHash { get; init; }
        public string Status { get; init; } = "";
    }

    private sealed class UserRow
    {
        public Guid Id { get; init; }
        public string Email { get; init; } = "";
        public string Name { get; init; } = "";
        public string Status { get; init; } = "";
        public DateTime? EmailVerifiedAt { get; init; }
        public Guid? DefaultTenantId { get; init; }
        public string Preferences { get; init; } = "{}";
        public DateTime? LastLoginAt { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
        public string? AvatarUrl { get; init; }

        public UserSnapshot ToSnapshot() => new(
            Id, Email, Name, WireNames.Parse<UserStatus>(Status), EmailVerifiedAt.ToUtcOffset(), DefaultTenantId, Preferences,
            LastLoginAt.ToUtcOffset(), CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset(), AvatarUrl);
    }
}

/// <summary>Converts Npgsql's UTC DateTime values of timestamptz columns to DateTimeOffset.</summary>
internal static class UtcTimes
{
    public static DateTimeOffset ToUtcOffset(this DateTime value) =>
        new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? ToUtcOffset(this DateTime? value) =>
        value is { } v ? v.ToUtcOffset() : null;
}
