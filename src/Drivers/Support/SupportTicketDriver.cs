using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Support;

namespace Platform.Drivers.Support;

/// <summary>Reads and writes support tickets and their responses; the operators' list and the ticket-to-tenant lookup go through cross-tenant functions.</summary>
public interface ISupportTicketDriver
{
    /// <summary>Inserts a ticket in the session's tenant.</summary>
    Task<SupportTicketSnapshot> InsertTicketAsync(IDbSession session, SupportTicketSnapshot ticket, CancellationToken cancellationToken);

    /// <summary>Fetches a ticket of the session's tenant, or null.</summary>
    Task<SupportTicketSnapshot?> FetchTicketAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken);

    /// <summary>Fetches a ticket of the session's tenant with its row lock held until the transaction ends, or null.</summary>
    Task<SupportTicketSnapshot?> LockTicketAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken);

    /// <summary>Lists the session tenant's tickets newest first (id descending) before a cursor id, optionally by status.</summary>
    Task<IReadOnlyList<SupportTicketSnapshot>> ListTicketsAsync(IDbSession session, Guid tenantId, string? status, Guid? before, int limit, CancellationToken cancellationToken);

    /// <summary>Lists every tenant's tickets in id order after a cursor id, through admin_support_tickets.</summary>
    Task<IReadOnlyList<SupportTicketSnapshot>> ListAllTicketsAsync(IDbSession session, SupportTicketFilter filter, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Finds the tenant that holds a ticket, across tenants, or null.</summary>
    Task<Guid?> FindTicketTenantAsync(IDbSession session, Guid ticketId, CancellationToken cancellationToken);

    /// <summary>Appends a response to a ticket of the session's tenant.</summary>
    Task<SupportTicketResponseSnapshot> InsertResponseAsync(IDbSession session, SupportTicketResponseSnapshot response, CancellationToken cancellationToken);

    /// <summary>Lists a ticket's responses oldest first.</summary>
    Task<IReadOnlyList<SupportTicketResponseSnapshot>> ListResponsesAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken);

    /// <summary>Sets a ticket's status, resolution and resolver and returns the new row.</summary>
    Task<SupportTicketSnapshot> SetStatusAsync(
        IDbSession session, Guid tenantId, Guid ticketId, string status, string? resolution, DateTimeOffset? resolvedAt, Guid? resolvedBy,
        DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class SupportTicketDriver : ISupportTicketDriver
{
    private const string Columns =
        "tenant_id, id, opened_by, subject, description, category, priority, status, resolution, resolved_at, resolved_by, created_at, updated_at";

    private const string ResponseColumns = "tenant_id, id, ticket_id, author_type, author_id, body, created_at";

    public async Task<SupportTicketSnapshot> InsertTicketAsync(IDbSession session, SupportTicketSnapshot ticket, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<TicketRow>(
            $"""
            INSERT INTO support_tickets (tenant_id, id, opened_by, subject, description, category, priority, status, created_at, updated_at)
            VALUES (@TenantId, @Id, @OpenedBy, @Subject, @Description, @Category, @Priority, @Status, @CreatedAt, @UpdatedAt)
            RETURNING {Columns}
            """, ticket, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<SupportTicketSnapshot?> FetchTicketAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM support_tickets WHERE tenant_id = @tenantId AND id = @ticketId", new { tenantId, ticketId }, (TicketRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<SupportTicketSnapshot?> LockTicketAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM support_tickets WHERE tenant_id = @tenantId AND id = @ticketId FOR UPDATE", new { tenantId, ticketId }, (TicketRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<SupportTicketSnapshot>> ListTicketsAsync(
        IDbSession session, Guid tenantId, string? status, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {Columns} FROM support_tickets
            WHERE tenant_id = @tenantId
              AND (@status::text IS NULL OR status = @status)
              AND (@before::uuid IS NULL OR id < @before)
            ORDER BY id DESC
            LIMIT @limit
            """,
            new { tenantId, status, before, limit }, (TicketRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<SupportTicketSnapshot>> ListAllTicketsAsync(
        IDbSession session, SupportTicketFilter filter, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {Columns} FROM admin_support_tickets(@TenantId, @Status, @Priority, @Category, @after, @limit)",
            new { filter.TenantId, filter.Status, filter.Priority, filter.Category, after, limit }, (TicketRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<Guid?> FindTicketTenantAsync(IDbSession session, Guid ticketId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<Guid?>(
            "SELECT support_ticket_tenant(@ticketId)", new { ticketId }, cancellationToken);
    }

    public async Task<SupportTicketResponseSnapshot> InsertResponseAsync(IDbSession session, SupportTicketResponseSnapshot response, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<ResponseRow>(
            $"""
            INSERT INTO support_ticket_responses (tenant_id, id, ticket_id, author_type, author_id, body, created_at)
            VALUES (@TenantId, @Id, @TicketId, @AuthorType, @AuthorId, @Body, @CreatedAt)
            RETURNING {ResponseColumns}
            """, response, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<IReadOnlyList<SupportTicketResponseSnapshot>> ListResponsesAsync(IDbSession session, Guid tenantId, Guid ticketId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {ResponseColumns} FROM support_ticket_responses WHERE tenant_id = @tenantId AND ticket_id = @ticketId ORDER BY id",
            new { tenantId, ticketId }, (ResponseRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<SupportTicketSnapshot> SetStatusAsync(
        IDbSession session, Guid tenantId, Guid ticketId, string status, string? resolution, DateTimeOffset? resolvedAt, Guid? resolvedBy,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<TicketRow>(
            $"""
            UPDATE support_tickets
            SET status = @status, resolution = @resolution, resolved_at = @resolvedAt, resolved_by = @resolvedBy, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @ticketId
            RETURNING {Columns}
            """,
            new { tenantId, ticketId, status, resolution, resolvedAt, resolvedBy, now }, cancellationToken);
        return row.ToSnapshot();
    }

    private sealed class TicketRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public Guid OpenedBy { get; init; }
        public string Subject { get; init; } = "";
        public string Description { get; init; } = "";
        public string Category { get; init; } = "";
        public string Priority { get; init; } = "";
        public string Status { get; init; } = "";
        public string? Resolution { get; init; }
        public DateTime? ResolvedAt { get; init; }
        public Guid? ResolvedBy { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public SupportTicketSnapshot ToSnapshot() => new(
            TenantId, Id, OpenedBy, Subject, Description, Category, Priority, Status, Resolution, ResolvedAt.ToUtcOffset(), ResolvedBy,
            CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }

    private sealed class ResponseRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public Guid TicketId { get; init; }
        public string AuthorType { get; init; } = "";
        public Guid AuthorId { get; init; }
        public string Body { get; init; } = "";
        public DateTime CreatedAt { get; init; }

        public SupportTicketResponseSnapshot ToSnapshot() => new(TenantId, Id, TicketId, AuthorType, AuthorId, Body, CreatedAt.ToUtcOffset());
    }
}
