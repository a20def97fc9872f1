using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Emits a webhook event in the caller's transaction: the event and one delivery per subscribed endpoint are written with the change that caused
/// them, so an event exists if and only if its change committed (the outbox, ADR 0500). Costs one statement, which writes nothing when no endpoint subscribes.</summary>
public sealed class WebhookEvents(IWebhookEventDriver driver, WebhooksOptions options, IClock clock)
{
    /// <summary>Gets the credit balance at or below which credits.low is sent (Webhooks:CreditsLowThreshold).</summary>
    public long CreditsLowThreshold => options.CreditsLowThreshold;

    /// <summary>Is how event bodies are written: snake_case names, enums by their wire names, no indentation.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Emits an event of a catalogue type to every enabled endpoint of the tenant subscribed to it; returns the number of deliveries queued.</summary>
    /// <exception cref="ArgumentException">The type is not in the catalogue, or data is not its data record.</exception>
    public Task<int> EmitAsync<TData>(IDbSession session, Guid tenantId, string type, TData data, CancellationToken cancellationToken) where TData : class =>
        driver.EmitAsync(session, Create(tenantId, type, data), cancellationToken);

    /// <summary>Emits an event to one endpoint of the tenant only (the test message); returns 0 when the tenant has no such endpoint.</summary>
    public Task<int> EmitToEndpointAsync<TData>(IDbSession session, Guid tenantId, Guid endpointId, string type, TData data, CancellationToken cancellationToken)
        where TData : class =>
        driver.EmitToEndpointAsync(session, Create(tenantId, type, data), endpointId, cancellationToken);

    /// <summary>Emits events of several tenants in the caller's transaction from a session bound to no tenant (batch work such as the month's close).</summary>
    public Task<int> EmitAcrossTenantsAsync<TData>(IDbSession session, string type, IEnumerable<(Guid TenantId, TData Data)> items, CancellationToken cancellationToken)
        where TData : class =>
        driver.EmitAcrossTenantsAsync(session, items.Select(i => Create(i.TenantId, type, i.Data)).ToList(), cancellationToken);

    /// <summary>Builds the stored body {"type", "timestamp", "data"} and a new event id (UUIDv7, so ids sort by time).</summary>
    public NewWebhookEvent Create<TData>(Guid tenantId, string type, TData data) where TData : class
    {
        var eventType = WebhookEventTypes.Find(type) ?? throw new ArgumentException($"'{type}' is not a webhook event type.", nameof(type));
        if (data.GetType() != eventType.DataType)
        {
            throw new ArgumentException($"The data of {type} is a {eventType.DataType.Name}, not a {data.GetType().Name}.", nameof(data));
        }
        var now = clock.UtcNow;
        var body = JsonSerializer.Serialize(new Body(type, now, data), Json);
        return new NewWebhookEvent(tenantId, Guid.CreateVersion7(now), type, body, now);
    }

    private sealed record Body(string Type, DateTimeOffset Timestamp, object Data);
}
