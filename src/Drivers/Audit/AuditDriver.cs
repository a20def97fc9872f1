using Platform.Drivers.Sessions;
using Platform.Models.Audit;

namespace Platform.Drivers.Audit;

/// <summary>Appends audit rows in the session's transaction.</summary>
public interface IAuditDriver
{
    /// <summary>Appends one audit row; it commits or rolls back with the change it describes.</summary>
    Task AppendAsync(IDbSession session, AuditRecord record, CancellationToken cancellationToken);
}

internal sealed class AuditDriver : IAuditDriver
{
    public async Task AppendAsync(IDbSession session, AuditRecord record, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO audit_log (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id,
                                   old_values, new_values, ip, user_agent, request_id)
            VALUES (@TenantId, @Id, @OccurredAt, @ActorType, @ActorId, @Action, @ResourceType, @ResourceId,
                    @OldValues::jsonb, @NewValues::jsonb, @Ip, @UserAgent, @RequestId)
            """, record, cancellationToken);
    }
}
