using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Operators;

namespace Platform.Drivers.Operators;

/// <summary>Appends and reads founder actions (append-only; a reversal is a new row).</summary>
public interface IFounderActionDriver
{
    /// <summary>Appends a founder action, or returns false when its reverses_action_id already has a reversal (also when one commits concurrently).</summary>
    Task<bool> TryAppendAsync(IDbSession session, FounderActionSnapshot action, CancellationToken cancellationToken);

    /// <summary>Fetches one action with the id of the action that reversed it, if any, or null.</summary>
    Task<FounderActionSnapshot?> FetchAsync(IDbSession session, Guid actionId, CancellationToken cancellationToken);

    /// <summary>Lists actions newest first (id descending) before a cursor id.</summary>
    Task<IReadOnlyList<FounderActionSnapshot>> ListAsync(IDbSession session, FounderActionFilter filter, Guid? before, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the actions that targeted a tenant.</summary>
    Task<long> CountForTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);
}

internal sealed class FounderActionDriver : IFounderActionDriver
{
    private const string Columns =
        """
        a.id, a.action_type, a.target_type, a.target_id, a.target_tenant_id, a.reason_code, a.reason_note, a.operator_id,
        a.mfa_verified, a.reversible, a.reverses_action_id, r.id AS reversed_by_action_id, a.details::text AS details, a.applied_at
        """;

    public async Task<bool> TryAppendAsync(IDbSession session, FounderActionSnapshot action, CancellationToken cancellationToken)
    {
        // A second reversal of one action meets the unique reverses_action_id and inserts nothing; the engine answers 409.
        var inserted = await session.ExecuteAsync(
            """
            INSERT INTO founder_actions (id, action_type, target_type, target_id, target_tenant_id, reason_code, reason_note,
                                         operator_id, mfa_verified, reversible, reverses_action_id, details, applied_at)
            VALUES (@Id, @ActionType, @TargetType, @TargetId, @TargetTenantId, @ReasonCode, @ReasonNote,
                    @OperatorId, @MfaVerified, @Reversible, @ReversesActionId, @Details::jsonb, @AppliedAt)
            ON CONFLICT (reverses_action_id) DO NOTHING
            """, action, cancellationToken);
        return inserted == 1;
    }

    public async Task<FounderActionSnapshot?> FetchAsync(IDbSession session, Guid actionId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM founder_actions a LEFT JOIN founder_actions r ON r.reverses_action_id = a.id WHERE a.id = @actionId",
            new { actionId }, (ActionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<FounderActionSnapshot>> ListAsync(
        IDbSession session, FounderActionFilter filter, Guid? before, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"""
            SELECT {Columns}
            FROM founder_actions a LEFT JOIN founder_actions r ON r.reverses_action_id = a.id
            WHERE (@tenantId::uuid IS NULL OR a.target_tenant_id = @tenantId)
              AND (@actionType::text IS NULL OR a.action_type = @actionType)
              AND (@before::uuid IS NULL OR a.id < @before)
            ORDER BY a.id DESC
            LIMIT @limit
            """,
            new { tenantId = filter.TenantId, actionType = filter.ActionType, before, limit }, (ActionRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<long> CountForTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM founder_actions WHERE target_tenant_id = @tenantId", new { tenantId }, cancellationToken);
    }

    private sealed class ActionRow
    {
        public Guid Id { get; init; }
        public string ActionType { get; init; } = "";
        public string TargetType { get; init; } = "";
        public string TargetId { get; init; } = "";
        public Guid? TargetTenantId { get; init; }
        public string ReasonCode { get; init; } = "";
        public string? ReasonNote { get; init; }
        public Guid OperatorId { get; init; }
        public bool MfaVerified { get; init; }
        public bool Reversible { get; init; }
        public Guid? ReversesActionId { get; init; }
        public Guid? ReversedByActionId { get; init; }
        public string Details { get; init; } = "{}";
        public DateTime AppliedAt { get; init; }

        public FounderActionSnapshot ToSnapshot() => new(
            Id, ActionType, TargetType, TargetId, TargetTenantId, ReasonCode, ReasonNote, OperatorId, MfaVerified, Reversible,
            ReversesActionId, ReversedByActionId, Details, AppliedAt.ToUtcOffset());
    }
}
