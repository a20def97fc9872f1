using Platform.Drivers.Sessions;
using Platform.Models.Tenants;

namespace Platform.Drivers.Tenants;

/// <summary>Reads and writes the memberships of the session's tenant.</summary>
public interface IMemberDriver
{
    /// <summary>Lists members in user id order after a cursor id, at most limit rows.</summary>
    Task<IReadOnlyList<MemberSnapshot>> ListMembersAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Fetches one member, or null.</summary>
    Task<MemberSnapshot?> FetchMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);

    /// <summary>Counts the tenant's owners.</summary>
    Task<int> CountOwnersAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Sets a member's role and returns the member, or null when there is no such member.</summary>
    Task<MemberSnapshot?> UpdateMemberRoleAsync(IDbSession session, Guid tenantId, Guid userId, TenantRole role, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes a membership and returns whether one was deleted.</summary>
    Task<bool> DeleteMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);
}

internal sealed class MemberDriver : IMemberDriver
{
    private const string Select =
        """
        SELECT m.tenant_id, m.user_id, u.email::text AS email, u.name, m.role, m.created_at, m.updated_at
        FROM memberships m JOIN users u ON u.id = m.user_id
        """;

    public async Task<IReadOnlyList<MemberSnapshot>> ListMembersAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            {Select}
            WHERE m.tenant_id = @tenantId AND (@after::uuid IS NULL OR m.user_id > @after)
            ORDER BY m.user_id
            LIMIT @limit
            """,
            new { tenantId, after, limit }, (MemberRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<MemberSnapshot?> FetchMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"{Select} WHERE m.tenant_id = @tenantId AND m.user_id = @userId", new { tenantId, userId }, (MemberRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<int> CountOwnersAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>(
            "SELECT count(*)::int FROM memberships WHERE tenant_id = @tenantId AND role = 'owner'", new { tenantId }, cancellationToken);
    }

    public async Task<MemberSnapshot?> UpdateMemberRoleAsync(IDbSession session, Guid tenantId, Guid userId, TenantRole role, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var updated = await session.ExecuteAsync(
            "UPDATE memberships SET role = @role, updated_at = @now WHERE tenant_id = @tenantId AND user_id = @userId",
            new { tenantId, userId, role = role.ToWire(), now }, cancellationToken);
        return updated == 0 ? null : await FetchMemberAsync(session, tenantId, userId, cancellationToken);
    }

    public async Task<bool> DeleteMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        var deleted = await session.ExecuteAsync(
            "DELETE FROM memberships WHERE tenant_id = @tenantId AND user_id = @userId", new { tenantId, userId }, cancellationToken);
        return deleted == 1;
    }

    private sealed class MemberRow
    {
        public Guid TenantId { get; init; }
        public Guid UserId { get; init; }
        public string Email { get; init; } = "";
        public string Name { get; init; } = "";
        public string Role { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public MemberSnapshot ToSnapshot() => new(
            TenantId, UserId, Email, Name, TenantRoles.Parse(Role),
            Users.UtcTimes.ToUtcOffset(CreatedAt), Users.UtcTimes.ToUtcOffset(UpdatedAt));
    }
}
