using System.Text.Json;
using Platform.Drivers.Audit;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Audit;

namespace Platform.Engines.Audit;

/// <summary>Writes the audit row of a state-changing command in the command's own transaction; values are serialised snake_case and must already hold no secrets.</summary>
internal sealed class AuditTrail(IAuditDriver audit, IClock clock)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public Task RecordAsync(
        IDbSession session,
        Guid tenantId,
        Caller caller,
        string action,
        string resourceType,
        object? resourceId,
        object? oldValues,
        object? newValues,
        CancellationToken cancellationToken) =>
        audit.AppendAsync(session, new AuditRecord(
            tenantId,
            Guid.CreateVersion7(),
            clock.UtcNow,
            caller.ActorType,
            caller.ActorId,
            action,
            resourceType,
            resourceId?.ToString(),
            oldValues is null ? null : JsonSerializer.Serialize(oldValues, Json),
            newValues is null ? null : JsonSerializer.Serialize(newValues, Json),
            caller.Origin?.Ip,
            caller.Origin?.UserAgent,
            caller.Origin?.RequestId), cancellationToken);
}
