using Platform.Models.Tenants;

namespace Platform.Models.Invitations;

/// <summary>Describes where an invitation is in its life; expired is derived from a pending row past its expiry.</summary>
[WireEnum]
public enum InvitationStatus
{
    Pending,
    Accepted,
    Revoked,
    Expired,
}

/// <summary>Holds an invitation's row as read in one transaction, without its token hash; the status is as of the read.</summary>
public sealed record InvitationSnapshot(
    Guid TenantId,
    Guid Id,
    string Email,
    TenantRole Role,
    InvitationStatus Status,
    Guid? InvitedBy,
    DateTimeOffset ExpiresAt,
    Guid? AcceptedBy,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? RevokedAt,
    int SentCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Holds the fields of a new invitation; the token is already hashed (SHA-256, 32 bytes).</summary>
public sealed record NewInvitation(
    Guid TenantId,
    Guid Id,
    string Email,
    TenantRole Role,
    byte[] TokenHash,
    Guid? InvitedBy,
    DateTimeOffset ExpiresAt,
    DateTimeOffset Now);

/// <summary>Holds an invitation together with its token and accept link, which are shown once and never stored.</summary>
public sealed record IssuedInvitation(InvitationSnapshot Invitation, string Token, string AcceptUrl);

/// <summary>Locates an invitation found by its token hash across tenants.</summary>
public sealed record InvitationLocator(Guid TenantId, Guid Id);
