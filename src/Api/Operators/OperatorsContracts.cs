using System.Text.Json;
using Platform.Models.Operators;
using Platform.Models.Support;

namespace Platform.Api.Contracts;

// Requests of the operator console and of support tickets; every field is nullable so that validation names a missing one.

public sealed record OperatorLogInRequest(string? Email, string? Password, string? TotpCode);

public sealed record FounderReasonRequest(string? ReasonCode, string? ReasonNote);

public sealed record QuotaOverrideActionRequest(long? Value, string? ReasonCode, string? ReasonNote);

public sealed record OpenSupportTicketRequest(string? Subject, string? Description, string? Category, string? Priority);

public sealed record SupportTicketResponseRequest(string? Body);

public sealed record ChangeSupportTicketStatusRequest(string? Status, string? Resolution);

public sealed record ResolveSupportTicketRequest(string? Resolution);

/// <summary>Is the wire form of an operator (never its secrets).</summary>
public sealed record OperatorResponse(
    Guid Id, string Email, string Name, string Role, bool TotpEnabled, DateTimeOffset? LastLoginAt, string? LastLoginIp, DateTimeOffset CreatedAt,
    string Status, bool TotpEnrolmentRequired)
{
    public static OperatorResponse From(OperatorSnapshot o) =>
        new(o.Id, o.Email, o.Name, o.Role.ToWire(), o.TotpEnabled, o.LastLoginAt, o.LastLoginIp, o.CreatedAt, o.Status, o.TotpEnrolmentRequired);
}

public sealed record OperatorLogInResponse(string AccessToken, string TokenType, int ExpiresIn, bool MfaVerified, OperatorResponse Operator);

/// <summary>Is the wire form of a founder action.</summary>
public sealed record FounderActionResponse(
    Guid Id, string ActionType, string TargetType, string TargetId, Guid? TenantId, string ReasonCode, string? ReasonNote,
    Guid OperatorId, bool MfaVerified, bool Reversible, Guid? ReversesActionId, Guid? ReversedByActionId, JsonElement Details,
    DateTimeOffset AppliedAt)
{
    public static FounderActionResponse From(FounderActionSnapshot a) => new(
        a.Id, a.ActionType, a.TargetType, a.TargetId, a.TargetTenantId, a.ReasonCode, a.ReasonNote, a.OperatorId, a.MfaVerified,
        a.Reversible, a.ReversesActionId, a.ReversedByActionId, JsonDocument.Parse(a.Details).RootElement.Clone(), a.AppliedAt);
}

/// <summary>Is the operator console's view of a tenant with its counters.</summary>
public sealed record AdminTenantResponse(TenantResponse Tenant, long Members, long OpenSupportTickets, long FounderActions)
{
    public static AdminTenantResponse From(AdminTenantDetail d) =>
        new(TenantResponse.From(d.Tenant, null), d.Members, d.OpenSupportTickets, d.FounderActions);
}

/// <summary>Is the wire form of a support ticket.</summary>
public sealed record SupportTicketResponse(
    Guid Id, Guid TenantId, Guid OpenedBy, string Subject, string Description, string Category, string Priority, string Status,
    string? Resolution, DateTimeOffset? ResolvedAt, Guid? ResolvedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<SupportTicketCommentResponse>? Responses)
{
    public static SupportTicketResponse From(SupportTicketSnapshot t) => new(
        t.Id, t.TenantId, t.OpenedBy, t.Subject, t.Description, t.Category, t.Priority, t.Status, t.Resolution, t.ResolvedAt, t.ResolvedBy,
        t.CreatedAt, t.UpdatedAt, null);

    public static SupportTicketResponse From(SupportTicketDetail d) =>
        From(d.Ticket) with { Responses = d.Responses.Select(SupportTicketCommentResponse.From).ToList() };
}

/// <summary>Is the wire form of one response on a support ticket.</summary>
public sealed record SupportTicketCommentResponse(Guid Id, Guid TicketId, string AuthorType, Guid AuthorId, string Body, DateTimeOffset CreatedAt)
{
    public static SupportTicketCommentResponse From(SupportTicketResponseSnapshot r) => new(r.Id, r.TicketId, r.AuthorType, r.AuthorId, r.Body, r.CreatedAt);
}
