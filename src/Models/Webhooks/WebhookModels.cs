namespace Platform.Models.Webhooks;

/// <summary>Holds an event to emit: its tenant, id (the webhook-id of every delivery), type and the JSON body sent, {"type", "timestamp", "data"}.</summary>
public sealed record NewWebhookEvent(Guid TenantId, Guid Id, string Type, string Payload, DateTimeOffset Now);

/// <summary>Turns event ids into the wire form (<c>msg_</c> + 32 hex digits), the value of the webhook-id header and of {msg_id} in routes, and back.</summary>
public static class WebhookIds
{
    public const string MessagePrefix = "msg_";

    public static string Message(Guid eventId) => MessagePrefix + eventId.ToString("N");

    /// <summary>Reads a wire message id; null when it is not one (a bare uuid is accepted too).</summary>
    public static Guid? ParseMessage(string? wire)
    {
        if (string.IsNullOrEmpty(wire))
        {
            return null;
        }
        var text = wire.StartsWith(MessagePrefix, StringComparison.Ordinal) ? wire[MessagePrefix.Length..] : wire;
        return Guid.TryParseExact(text, "N", out var id) || Guid.TryParseExact(text, "D", out id) ? id : null;
    }
}
