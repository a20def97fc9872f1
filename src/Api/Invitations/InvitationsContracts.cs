using System.Text.Json;
using Platform.Models.Audit;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Api.Contracts;

/// <summary>Is the wire form of an invitation, without its token.</summary>
public sealed record InvitationResponse(
    Guid Id, Guid TenantId, string Email, string Role, string Status, Guid? InvitedBy, DateTimeOffset ExpiresAt,
    Guid? AcceptedBy, DateTimeOffset? AcceptedAt, DateTimeOffset? RevokedAt, int SentCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static InvitationResponse From(InvitationSnapshot i) => new(
        i.Id, i.TenantId, i.Email, i.Role.ToWire(), i.Status.ToWire(), i.InvitedBy, i.ExpiresAt,
        i.AcceptedBy, i.AcceptedAt, i.RevokedAt, i.SentCount, i.CreatedAt, i.UpdatedAt);
}

/// <summary>Is the wire form of a newly issued invitation: the invitation plus its token and accept link, shown this once.</summary>
public sealed record IssuedInvitationResponse(InvitationResponse Invitation, string Token, string AcceptUrl)
{
    public static IssuedInvitationResponse From(IssuedInvitation i) => new(InvitationResponse.From(i.Invitation), i.Token, i.AcceptUrl);
}

/// <summary>Is the wire form of one audit row; old and new values are JSON as recorded.</summary>
public sealed record AuditRecordResponse(
    Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string ActorType, Guid? ActorId, string Action, string ResourceType,
    string? ResourceId, JsonElement? OldValues, JsonElement? NewValues, string? Ip, string? UserAgent, string? RequestId)
{
    public static AuditRecordResponse From(AuditRecord a) => new(
        a.Id, a.TenantId, a.OccurredAt, a.ActorType, a.ActorId, a.Action, a.ResourceType, a.ResourceId,
        Parse(a.OldValues), Parse(a.NewValues), a.Ip, a.UserAgent, a.RequestId);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
