using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Drivers.Invitations;

/// <summary>Reads and writes the invitations of the session's tenant; the accept path finds one by token hash through invitation_by_token_hash.</summary>
public interface IInvitationDriver
{
    /// <summary>Inserts a pending invitation and returns it.</summary>
    Task<InvitationSnapshot> InsertInvitationAsync(IDbSession session, NewInvitation invitation, CancellationToken cancellationToken);

    /// <summary>Fetches one invitation with its status as of the given time, or null; with forUpdate the row stays locked until the transaction ends.</summary>
    Task<InvitationSnapshot?> FetchInvitationAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, bool forUpdate, CancellationToken cancellationToken);

    /// <summary>Lists invitations newest first (id order descending) before a cursor id, optionally of one status, at most limit rows.</summary>
    Task<IReadOnlyList<InvitationSnapshot>> ListInvitationsAsync(IDbSession session, Guid tenantId, InvitationStatus? status, Guid? before, DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the tenant's members plus its pending, unexpired invitations other than one (null for none).</summary>
    Task<(int Members, int PendingInvitations)> CountSeatsAsync(IDbSession session, Guid tenantId, Guid? exceptInvitationId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Tells whether the tenant has a pending, unexpired invitation for the email (case-insensitive).</summary>
    Task<bool> HasPendingInvitationAsync(IDbSession session, Guid tenantId, string email, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Tells whether a user with the email (case-insensitive) is already a member of the tenant.</summary>
    Task<bool> IsMemberEmailAsync(IDbSession session, Guid tenantId, string email, CancellationToken cancellationToken);

    /// <summary>Marks a pending invitation revoked and returns it, or null when it was not pending.</summary>
    Task<InvitationSnapshot?> RevokeInvitationAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces a pending invitation's token hash and expiry and counts the send; returns it, or null when it was not pending.</summary>
    Task<InvitationSnapshot?> ReissueInvitationAsync(IDbSession session, Guid tenantId, Guid id, byte[] tokenHash, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks a pending invitation accepted by a user and returns it, or null when it was not pending.</summary>
    Task<InvitationSnapshot?> MarkAcceptedAsync(IDbSession session, Guid tenantId, Guid id, Guid userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Finds the tenant and id of the invitation with a token hash, across tenants, or null.</summary>
    Task<InvitationLocator?> FindByTokenHashAsync(IDbSession session, byte[] tokenHash, CancellationToken cancellationToken);
}

internal sealed class InvitationDriver : IInvitationDriver
{
    private const string Columns =
        """
        i.tenant_id, i.id, i.email::text AS email, i.role,
        CASE WHEN i.status = 'pending' AND i.expires_at <= @now THEN 'expired' ELSE i.status END AS status,
        i.invited_by, i.expires_at, i.accepted_by, i.accepted_at, i.revoked_at, i.sent_count, i.created_at, i.updated_at
        """;

    public async Task<InvitationSnapshot> InsertInvitationAsync(IDbSession session, NewInvitation invitation, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO invitations (tenant_id, id, email, role, token_hash, status, invited_by, expires_at, created_at, updated_at)
            VALUES (@TenantId, @Id, @Email, @Role, @TokenHash, 'pending', @InvitedBy, @ExpiresAt, @Now, @Now)
            """,
            new
            {
                invitation.TenantId, invitation.Id, invitation.Email, Role = invitation.Role.ToWire(), invitation.TokenHash,
                invitation.InvitedBy, invitation.ExpiresAt, invitation.Now,
            },
            cancellationToken);
        return await FetchInvitationAsync(session, invitation.TenantId, invitation.Id, invitation.Now, false, cancellationToken)
            ?? throw new InvalidOperationException("The new invitation is not visible in its own tenant.");
    }

    public async Task<InvitationSnapshot?> FetchInvitationAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, bool forUpdate, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            forUpdate
                ? $"SELECT {Columns} FROM invitations i WHERE i.tenant_id = @tenantId AND i.id = @id FOR UPDATE"
                : $"SELECT {Columns} FROM invitations i WHERE i.tenant_id = @tenantId AND i.id = @id",
            new { tenantId, id, now }, (InvitationRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<InvitationSnapshot>> ListInvitationsAsync(IDbSession session, Guid tenantId, InvitationStatus? status, Guid? before, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {Columns} FROM invitations i
            WHERE i.tenant_id = @tenantId AND (@before::uuid IS NULL OR i.id < @before)
              AND (@status::text IS NULL
                   OR (@status = 'expired' AND i.status = 'pending' AND i.expires_at <= @now)
                   OR (@status = 'pending' AND i.status = 'pending' AND i.expires_at > @now)
                   OR (@status IN ('accepted', 'revoked') AND i.status = @status))
            ORDER BY i.id DESC
            LIMIT @limit
            """,
            new { tenantId, before, now, limit, status = status?.ToWire() }, (InvitationRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<(int Members, int PendingInvitations)> CountSeatsAsync(IDbSession session, Guid tenantId, Guid? exceptInvitationId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<(int, int)>(
            """
            SELECT (SELECT count(*)::int FROM memberships m WHERE m.tenant_id = @tenantId),
                   (SELECT count(*)::int FROM invitations i
                    WHERE i.tenant_id = @tenantId AND i.status = 'pending' AND i.expires_at > @now
                      AND (@except::uuid IS NULL OR i.id <> @except))
            """,
            new { tenantId, now, except = exceptInvitationId }, cancellationToken);
        return row;
    }

    public async Task<bool> HasPendingInvitationAsync(IDbSession session, Guid tenantId, string email, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            """
            SELECT EXISTS (SELECT 1 FROM invitations i
                           WHERE i.tenant_id = @tenantId AND i.email = @email::citext AND i.status = 'pending' AND i.expires_at > @now)
            """,
            new { tenantId, email, now }, cancellationToken);
    }

    public async Task<bool> IsMemberEmailAsync(IDbSession session, Guid tenantId, string email, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            """
            SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                           WHERE m.tenant_id = @tenantId AND u.email = @email::citext)
            """,
            new { tenantId, email }, cancellationToken);
    }

    public async Task<InvitationSnapshot?> RevokeInvitationAsync(IDbSession session, Guid tenantId, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var updated = await session.ExecuteAsync(
            """
            UPDATE invitations SET status = 'revoked', revoked_at = @now, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @id AND status = 'pending'
            """,
            new { tenantId, id, now }, cancellationToken);
        return updated == 0 ? null : await FetchInvitationAsync(session, tenantId, id, now, false, cancellationToken);
    }

    public async Task<InvitationSnapshot?> ReissueInvitationAsync(IDbSession session, Guid tenantId, Guid id, byte[] tokenHash, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var updated = await session.ExecuteAsync(
            """
            UPDATE invitations SET token_hash = @tokenHash, expires_at = @expiresAt, sent_count = sent_count + 1, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @id AND status = 'pending'
            """,
            new { tenantId, id, tokenHash, expiresAt, now }, cancellationToken);
        return updated == 0 ? null : await FetchInvitationAsync(session, tenantId, id, now, false, cancellationToken);
    }

    public async Task<InvitationSnapshot?> MarkAcceptedAsync(IDbSession session, Guid tenantId, Guid id, Guid userId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var updated = await session.ExecuteAsync(
            """
            UPDATE invitations SET status = 'accepted', accepted_by = @userId, accepted_at = @now, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @id AND status = 'pending'
            """,
            new { tenantId, id, userId, now }, cancellationToken);
        return updated == 0 ? null : await FetchInvitationAsync(session, tenantId, id, now, false, cancellationToken);
    }

    public async Task<InvitationLocator?> FindByTokenHashAsync(IDbSession session, byte[] tokenHash, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<LocatorRow>(
            "SELECT tenant_id, id FROM invitation_by_token_hash(@tokenHash)", new { tokenHash }, cancellationToken);
        return row is null ? null : new InvitationLocator(row.TenantId, row.Id);
    }

    private sealed class LocatorRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
    }

    private sealed class InvitationRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Email { get; init; } = "";
        public string Role { get; init; } = "";
        public string Status { get; init; } = "";
        public Guid? InvitedBy { get; init; }
        public DateTime ExpiresAt { get; init; }
        public Guid? AcceptedBy { get; init; }
        public DateTime? AcceptedAt { get; init; }
        public DateTime? RevokedAt { get; init; }
        public int SentCount { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public InvitationSnapshot ToSnapshot() => new(
            TenantId, Id, Email, TenantRoles.Parse(Role), InvitationStatuses.Parse(Status), InvitedBy, ExpiresAt.ToUtcOffset(),
            AcceptedBy, AcceptedAt.ToUtcOffset(), RevokedAt.ToUtcOffset(), SentCount, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }
}
