using System.Text.Json;
using Platform.Engines.Webhooks;
using Platform.Models.Webhooks;

namespace Platform.Api.Webhooks;

// Request fields are nullable so that a missing one reaches validation and is named there; optional ones default to null.

/// <summary>Creates an endpoint: event_types null or left out subscribes to every type; secret left out is generated.</summary>
public sealed record CreateWebhookEndpointRequest(
    string? Url, string? Description = null, IReadOnlyList<string>? EventTypes = null, bool? Enabled = null, int? RateLimit = null,
    Dictionary<string, string?>? Headers = null, string? Secret = null);

/// <summary>Changes an endpoint; fields left out keep their value. event_types: an array of names, or null for every type. rate_limit: a number,
/// or null for none. headers: the whole new set (replaces the old one).</summary>
/// <remarks>Properties, not constructor parameters: a left-out JsonElement stays Undefined while a JSON null reads as Null, and no default value
/// appears in the OpenAPI schema.</remarks>
public sealed record UpdateWebhookEndpointRequest
{
    public string? Url { get; init; }

    public string? Description { get; init; }

    /// <summary>Gets the subscribed types: an array of names, or null for every type; left out keeps them.</summary>
    public JsonElement EventTypes { get; init; }

    public bool? Enabled { get; init; }

    /// <summary>Gets the deliveries per second (1-10000), or null for no limit; left out keeps it.</summary>
    public JsonElement RateLimit { get; init; }

    public Dictionary<string, string?>? Headers { get; init; }
}

/// <summary>Is the wire form of an endpoint; it never holds the secret (only until when a former secret still signs, after a rotation).</summary>
public sealed record WebhookEndpointResponse(
    Guid Id, string Url, string Description, IReadOnlyList<string>? EventTypes, bool Enabled, int? RateLimit, IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset? FailingSince, string? DisabledReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WebhookEndpointResponse From(WebhookEndpointSnapshot e) => new(
        e.Id, e.Url, e.Description, e.EventTypes, e.Enabled, e.RateLimit, e.Headers, e.PreviousSecretExpiresAt, e.FailingSince, e.DisabledReason,
        e.CreatedAt, e.UpdatedAt);
}

/// <summary>Is the answer to an endpoint's creation: the endpoint and, this once, its signing secret.</summary>
public sealed record CreatedWebhookEndpointResponse(
    Guid Id, string Url, string Description, IReadOnlyList<string>? EventTypes, bool Enabled, int? RateLimit, IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string Secret)
{
    public static CreatedWebhookEndpointResponse From(WebhookEndpointWithSecret created)
    {
        var e = created.Endpoint;
        return new(e.Id, e.Url, e.Description, e.EventTypes, e.Enabled, e.RateLimit, e.Headers, e.CreatedAt, e.UpdatedAt, created.Secret);
    }
}

/// <summary>Is the answer to a rotation: the new secret, this once, and until when the former one still signs.</summary>
public sealed record RotatedWebhookSecretResponse(Guid EndpointId, string Secret, DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>Is one delivery of a message to an endpoint in the endpoint's log.</summary>
public sealed record WebhookDeliveryResponse(
    Guid Id, string MessageId, Guid EndpointId, string EventType, WebhookDeliveryStatus Status, int Attempts, DateTimeOffset? NextAttemptAt,
    string? LastError, DateTimeOffset CreatedAt)
{
    public static WebhookDeliveryResponse From(WebhookDeliverySnapshot d) => new(
        d.Id, WebhookIds.Message(d.EventId), d.EndpointId, d.EventType, d.Status, d.Attempts, d.NextAttemptAt, d.LastError, d.CreatedAt);
}

/// <summary>Is one attempt of a delivery: the HTTP status is null when no response came (refused, timed out); latency in milliseconds.</summary>
public sealed record WebhookAttemptResponse(
    int Attempt, DateTimeOffset AttemptedAt, bool Succeeded, int? StatusCode, int? LatencyMs, string? ResponseExcerpt, string? Error)
{
    public static WebhookAttemptResponse From(WebhookAttemptSnapshot a) =>
        new(a.Attempt, a.AttemptedAt, a.Succeeded, a.StatusCode, a.LatencyMs, a.ResponseExcerpt, a.Error);
}

/// <summary>Is a message's delivery to one endpoint with every attempt made (attempt_log, oldest first).</summary>
public sealed record WebhookMessageDeliveryResponse(
    Guid Id, Guid EndpointId, WebhookDeliveryStatus Status, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError, DateTimeOffset CreatedAt,
    IReadOnlyList<WebhookAttemptResponse> AttemptLog);

/// <summary>Is a message: its id (the webhook-id header), type, time, the exact body sent, and its delivery to each endpoint.</summary>
public sealed record WebhookMessageResponse(
    string Id, string Type, DateTimeOffset Timestamp, JsonElement Payload, IReadOnlyList<WebhookMessageDeliveryResponse> Deliveries)
{
    public static WebhookMessageResponse From(WebhookMessageDetail m)
    {
        using var payload = JsonDocument.Parse(m.Event.Payload);
        return new(
            WebhookIds.Message(m.Event.Id), m.Event.Type, m.Event.CreatedAt, payload.RootElement.Clone(),
            m.Deliveries.Select(d => new WebhookMessageDeliveryResponse(
                d.Id, d.EndpointId, d.Status, d.Attempts, d.NextAttemptAt, d.LastError, d.CreatedAt,
                m.Attempts.Where(a => a.DeliveryId == d.Id).Select(WebhookAttemptResponse.From).ToList())).ToList());
    }
}

/// <summary>Says how many deliveries a retry or a recovery put back in the queue.</summary>
public sealed record WebhookRequeueResponse(int Queued);

/// <summary>Names the test message sent (its webhook-id).</summary>
public sealed record WebhookTestResponse(string MessageId);

/// <summary>Is one event type of the catalogue: its name, when it is sent, the JSON Schema of its data and an example body.</summary>
public sealed record WebhookEventTypeResponse(string Name, string Description, bool Subscribable, JsonElement Schema, JsonElement Example);
