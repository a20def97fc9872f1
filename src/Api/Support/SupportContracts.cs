using Platform.Models.Support;

namespace Platform.Api.Support;

// Requests of support tickets; fields are nullable so that validation names a missing one, and optional ones default to null.

public sealed record OpenSupportTicketRequest(string? Subject, string? Description, string? Category, string? Priority = null);

public sealed record SupportTicketResponseRequest(string? Body);

public sealed record ChangeSupportTicketStatusRequest(string? Status, string? Resolution = null);

public sealed record ResolveSupportTicketRequest(string? Resolution);

/// <summary>Is the wire form of a support ticket.</summary>
public sealed record SupportTicketResponse(
    Guid Id, Guid TenantId, Guid OpenedBy, string Subject, string Description, string Category, string Priority, SupportTicketStatus Status,
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
