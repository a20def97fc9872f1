namespace Platform.Models.Audit;

/// <summary>Holds one audit row: who did what to which resource of a tenant, with old and new values (secrets already redacted) as JSON.</summary>
public sealed record AuditRecord(
    Guid TenantId,
    Guid Id,
    DateTimeOffset OccurredAt,
    string ActorType,
    Guid? ActorId,
    string Action,
    string ResourceType,
    string? ResourceId,
    string? OldValues,
    string? NewValues,
    string? Ip,
    string? UserAgent,
    string? RequestId);
