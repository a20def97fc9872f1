using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Describes one catalogue event type for GET /v1/webhooks/event-types: the JSON Schema of its data and an example body, both written
/// with the options event bodies are sent with, so that what the schema says is what arrives.</summary>
public sealed record WebhookEventTypeDescription(string Name, string Description, bool Subscribable, JsonNode Schema, JsonNode Example);

/// <summary>Builds the described catalogue once: schemas come from the data records by System.Text.Json's schema exporter.</summary>
public static class WebhookEventCatalogue
{
    private static readonly JsonSerializerOptions Options = new(WebhookEvents.Json) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static readonly Lazy<IReadOnlyList<WebhookEventTypeDescription>> Described = new(() =>
        WebhookEventTypes.All.Select(Describe).ToList());

    /// <summary>Gets every event type, in catalogue order; webhook.test is listed but cannot be subscribed to.</summary>
    public static IReadOnlyList<WebhookEventTypeDescription> All => Described.Value;

    private static WebhookEventTypeDescription Describe(WebhookEventType type)
    {
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(Options, type.DataType, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });
        var example = new JsonObject
        {
            ["type"] = type.Name,
            ["timestamp"] = JsonSerializer.SerializeToNode(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero), Options),
            ["data"] = JsonSerializer.SerializeToNode(type.Example, type.DataType, Options),
        };
        return new WebhookEventTypeDescription(type.Name, type.Description, WebhookEventTypes.IsSubscribable(type.Name), schema, example);
    }
}
