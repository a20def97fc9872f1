using Platform.Models;
using Platform.Models.Invitations;

namespace Platform.Api.Invitations;

public sealed record CreateInvitationRequest(string? Email, string? Role);

public sealed record AcceptInvitationRequest(string? Token);

/// <summary>Is the wire form of an invitation, without its token.</summary>
public sealed record InvitationResponse(
    Guid Id, Guid TenantId, string Email, string Role, InvitationStatus Status, Guid? InvitedBy, DateTimeOffset ExpiresAt,
    Guid? AcceptedBy, DateTimeOffset? AcceptedAt, DateTimeOffset? RevokedAt, int SentCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static InvitationResponse From(InvitationSnapshot i) => new(
        i.Id, i.TenantId, i.Email, i.Role.ToWire(), i.Status, i.InvitedBy, i.ExpiresAt,
        i.AcceptedBy, i.AcceptedAt, i.RevokedAt, i.SentCount, i.CreatedAt, i.UpdatedAt);
}

/// <summary>Is the wire form of a newly issued invitation: the invitation plus its token and accept link, shown this once.</summary>
public sealed record IssuedInvitationResponse(InvitationResponse Invitation, string Token, string AcceptUrl)
{
    public static IssuedInvitationResponse From(IssuedInvitation i) => new(InvitationResponse.From(i.Invitation), i.Token, i.AcceptUrl);
}
