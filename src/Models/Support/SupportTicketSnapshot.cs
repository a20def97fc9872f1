namespace Platform.Models.Support;

/// <summary>Is a tenant's support ticket.</summary>
public sealed record SupportTicketSnapshot(
    Guid TenantId,
    Guid Id,
    Guid OpenedBy,
    string Subject,
    string Description,
    string Category,
    string Priority,
    SupportTicketStatus Status,
    string? Resolution,
    DateTimeOffset? ResolvedAt,
    Guid? ResolvedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Is one response on a support ticket, by a tenant user or an operator.</summary>
public sealed record SupportTicketResponseSnapshot(Guid TenantId, Guid Id, Guid TicketId, string AuthorType, Guid AuthorId, string Body, DateTimeOffset CreatedAt);

/// <summary>Is a ticket with its responses in time order.</summary>
public sealed record SupportTicketDetail(SupportTicketSnapshot Ticket, IReadOnlyList<SupportTicketResponseSnapshot> Responses);

/// <summary>Filters the operators' list of tickets across tenants.</summary>
public sealed record SupportTicketFilter(Guid? TenantId, string? Status, string? Priority, string? Category);

/// <summary>Names the allowed categories, priorities and statuses of support tickets.</summary>
public static class SupportTickets
{
    public static readonly IReadOnlyList<string> Categories = ["billing", "technical", "account", "feature_request", "other"];
    public static readonly IReadOnlyList<string> Priorities = ["low", "normal", "high", "urgent"];
    public static readonly IReadOnlyList<string> Statuses = WireNames.Names<SupportTicketStatus>();
}
