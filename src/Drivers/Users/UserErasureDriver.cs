using Platform.Drivers.Sessions;

namespace Platform.Drivers.Users;

/// <summary>Anonymises the session's own user row when the user erases their account.</summary>
public interface IUserErasureDriver
{
    /// <summary>Replaces the user's email and name with placeholders, drops the password and sign-in links, and marks the row deleted; returns false when the row is not the session's own.</summary>
    Task<bool> AnonymiseUserAsync(IDbSession session, Guid userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes the session's own user's identity-provider links (sso_identities) in every tenant; returns how many.</summary>
    Task<int> EraseOwnSsoIdentitiesAsync(IDbSession session, CancellationToken cancellationToken);
}

internal sealed class UserErasureDriver : IUserErasureDriver
{
    public async Task<bool> AnonymiseUserAsync(IDbSession session, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var updated = await session.ExecuteAsync(
            """
            UPDATE users SET email = 'deleted-' || replace(id::text, '-', '') || '@erased.invalid', name = 'Deleted user',
                password_hash = NULL, oauth_provider = NULL, oauth_subject = NULL, email_verified_at = NULL,
                default_tenant_id = NULL, preferences = '{}', avatar_url = NULL, last_login_at = NULL, status = 'deleted', updated_at = @now
            WHERE id = @userId AND status <> 'deleted'
            """,
            new { userId, now }, cancellationToken);
        return updated == 1;
    }

    public async Task<int> EraseOwnSsoIdentitiesAsync(IDbSession session, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<int>("SELECT erase_my_sso_identities()", null, cancellationToken);
}
