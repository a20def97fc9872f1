using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Audit;

namespace Platform.Drivers.Audit;

/// <summary>Holds the filters of an audit-log query; a null field does not filter.</summary>
public sealed record AuditLogFilter(string? Action, string? ActorType, Guid? ActorId, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>Reads the audit rows of the session's tenant, newest first.</summary>
public interface IAuditLogDriver
{
    /// <summary>Lists audit rows in id order descending (ids are time-ordered UUIDv7) before a cursor id, at most limit rows.</summary>
    Task<IReadOnlyList<AuditRecord>> ListAuditRecordsAsync(IDbSession session, Guid tenantId, AuditLogFilter filter, Guid? before, int limit, CancellationToken cancellationToken);
}

internal sealed class AuditLogDriver : IAuditLogDriver
{
    public async Task<IReadOnlyList<AuditRecord>> ListAuditRecordsAsync(IDbSession session, Guid tenantId, AuditLogFilter filter, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT a.tenant_id, a.id, a.occurred_at, a.actor_type, a.actor_id, a.action, a.resource_type, a.resource_id,
                   a.old_values::text AS old_values, a.new_values::text AS new_values, a.ip, a.user_agent, a.request_id
            FROM audit_log a
            WHERE a.tenant_id = @tenantId
              AND (@before::uuid IS NULL OR a.id < @before)
              AND (@action::text IS NULL OR a.action = @action
                   OR (right(@action, 1) = '.' AND starts_with(a.action, @action)))
              AND (@actorType::text IS NULL OR a.actor_type = @actorType)
              AND (@actorId::uuid IS NULL OR a.actor_id = @actorId)
              AND (@from::timestamptz IS NULL OR a.occurred_at >= @from)
              AND (@to::timestamptz IS NULL OR a.occurred_at < @to)
            ORDER BY a.id DESC
            LIMIT @limit
            """,
            new { tenantId, before, filter.Action, filter.ActorType, filter.ActorId, filter.From, filter.To, limit }, (AuditRow r) => r.ToRecord(), cancellationToken);
    }

    private sealed class AuditRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public DateTime OccurredAt { get; init; }
        public string ActorType { get; init; } = "";
        public Guid? ActorId { get; init; }
        public string Action { get; init; } = "";
        public string ResourceType { get; init; } = "";
        public string? ResourceId { get; init; }
        public string? OldValues { get; init; }
        public string? NewValues { get; init; }
        public string? Ip { get; init; }
        public string? UserAgent { get; init; }
        public string? RequestId { get; init; }

        public AuditRecord ToRecord() => new(
            TenantId, Id, OccurredAt.ToUtcOffset(), ActorType, ActorId, Action, ResourceType, ResourceId,
            OldValues, NewValues, Ip, UserAgent, RequestId);
    }
}
