namespace Platform.Models.Users;

/// <summary>Holds a user's row as read in one transaction, without the password hash.</summary>
public sealed record UserSnapshot(
    Guid Id,
    string Email,
    string Name,
    UserStatus Status,
    DateTimeOffset? EmailVerifiedAt,
    Guid? DefaultTenantId,
    string Preferences,
    DateTimeOffset? LastLoginAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? AvatarUrl = null);

/// <summary>Holds what login needs of a user: the id, the password hash and the status.</summary>
public sealed record UserCredentials(Guid Id, string PasswordHash, UserStatus Status);

/// <summary>Holds the fields of a new user; the password is already hashed.</summary>
public sealed record NewUser(Guid Id, string Email, string Name, string PasswordHash, DateTimeOffset Now);
