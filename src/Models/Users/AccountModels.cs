namespace Platform.Models.Users;

/// <summary>Holds one of a user's live sessions as listed to them.</summary>
public sealed record UserSessionSnapshot(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? UserAgent, string? Ip);

/// <summary>Holds a new session row: its id, user, the hash of its first refresh token, when it was opened and when it ends at the latest.</summary>
public sealed record NewUserSession(Guid Id, Guid UserId, byte[] RefreshHash, DateTimeOffset Now, DateTimeOffset ExpiresAt, string? UserAgent, string? Ip);

/// <summary>Says what one use of a refresh token did (ADR 0530).</summary>
[WireEnum]
public enum RefreshOutcome
{
    /// <summary>The token was current; a new one replaced it.</summary>
    Rotated,

    /// <summary>The token had already been rotated: the whole session is revoked.</summary>
    Reused,

    /// <summary>The session outlived its idle or absolute limit, or the user is no longer active: revoked.</summary>
    Expired,

    /// <summary>No live session holds the token.</summary>
    Unknown,
}

/// <summary>Holds the outcome of a refresh-token use with the session and user it named, when any.</summary>
public sealed record RefreshResult(RefreshOutcome Outcome, Guid? SessionId, Guid? UserId);

/// <summary>Names what a one-time account token is for.</summary>
[WireEnum]
public enum AccountTokenPurpose
{
    VerifyEmail,
    ResetPassword,
}

/// <summary>Holds a change of the signed-in user's profile: each Set flag says whether the field changes (a null value clears it).</summary>
public sealed record ProfileChange(
    Guid UserId, bool SetName, string? Name, bool SetAvatarUrl, string? AvatarUrl, bool SetPreferences, string? PreferencesJson,
    bool SetDefaultTenant, Guid? DefaultTenantId, DateTimeOffset Now);
