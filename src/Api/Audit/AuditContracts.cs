using System.Text.Json;
using Platform.Models.Audit;

namespace Platform.Api.Audit;

/// <summary>Is the wire form of one audit row; old and new values are JSON as recorded.</summary>
public sealed record AuditRecordResponse(
    Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string ActorType, Guid? ActorId, string Action, string ResourceType,
    string? ResourceId, JsonElement? OldValues, JsonElement? NewValues, string? Ip, string? UserAgent, string? RequestId)
{
    public static AuditRecordResponse From(AuditRecord a) => new(
        a.Id, a.TenantId, a.OccurredAt, a.ActorType, a.ActorId, a.Action, a.ResourceType, a.ResourceId,
        Parse(a.OldValues), Parse(a.NewValues), a.Ip, a.UserAgent, a.RequestId);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
