namespace Platform.Models.Operators;

/// <summary>Is one immutable founder (operator) action: what was done to which target, why, by whom, and whether it may be reversed.</summary>
public sealed record FounderActionSnapshot(
    Guid Id,
    string ActionType,
    string TargetType,
    string TargetId,
    Guid? TargetTenantId,
    string ReasonCode,
    string? ReasonNote,
    Guid OperatorId,
    bool MfaVerified,
    bool Reversible,
    Guid? ReversesActionId,
    Guid? ReversedByActionId,
    string Details,
    DateTimeOffset AppliedAt);

/// <summary>Filters the founder action list: by tenant, by action type, or none.</summary>
public sealed record FounderActionFilter(Guid? TenantId, string? ActionType);

/// <summary>Is a tenant as the operator console shows it, with counters: members, open support tickets and founder actions on it.</summary>
public sealed record AdminTenantDetail(Tenants.TenantSnapshot Tenant, long Members, long OpenSupportTickets, long FounderActions);
