using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Platform.Tests.Contract;

/// <summary>Validates response bodies against the schemas of the served OpenAPI document with JsonSchema.Net (OpenAPI 3.1 schemas are JSON Schema 2020-12).</summary>
/// <remarks>
/// Stricter than the document itself: objects may hold no property the document does not name (unevaluatedProperties: false), and
/// date-time and uuid formats are asserted, so an undocumented field or a wrongly typed one fails.
/// </remarks>
public sealed class DocumentedSchemas(JsonObject document)
{
    private static readonly HashSet<string> AssertedFormats = ["date-time", "uuid"];
    private readonly JsonObject definitions = Strict(document["components"]!["schemas"]!.DeepClone()).AsObject();

    /// <summary>Gets the document's operations with a JSON success response, as "GET /v1/plans".</summary>
    public IReadOnlyList<string> JsonOperations() =>
    [
        .. document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(op => SuccessSchema(op.Value!) is not null)
            .Select(op => $"{op.Key.ToUpperInvariant()} {path.Key}")),
    ];

    /// <summary>Returns the problems of a body against the documented JSON schema of the operation's response with this status, or a sentence saying there is none.</summary>
    public IReadOnlyList<string> Check(string method, string pathTemplate, int status, string body)
    {
        var operation = document["paths"]?[pathTemplate]?[method.ToLowerInvariant()];
        if (operation is null)
        {
            return [$"{method} {pathTemplate} is not in the document"];
        }
        var schema = operation["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]?["content"]?["application/json"]?["schema"];
        if (schema is null)
        {
            return [$"{method} {pathTemplate} documents no application/json schema for {status}"];
        }
        var id = new Uri($"https://platform.test/contract/{Guid.NewGuid():N}");
        // $id and $defs come before the reference that needs them; the response's schema is the one subschema of allOf.
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = id.ToString(),
            ["$defs"] = definitions.DeepClone(),
            ["allOf"] = new JsonArray(Strict(schema.DeepClone())),
        };
        var evaluator = JsonSchema.FromText(root.ToJsonString(), baseUri: id);
        using var instance = JsonDocument.Parse(body);
        var results = evaluator.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (results.IsValid)
        {
            return [];
        }
        return
        [
            .. (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{method} {pathTemplate} {status}: {d.InstanceLocation} ({d.EvaluationPath}) {e.Key}: {e.Value}")),
        ];
    }

    private static JsonNode? SuccessSchema(JsonNode operation) =>
        operation["responses"]?.AsObject().Where(r => r.Key.StartsWith('2')).Select(r => r.Value?["content"]?["application/json"]?["schema"]).FirstOrDefault(s => s is not null);

    /// <summary>Points references at $defs, closes objects that do not declare additionalProperties, and keeps only the formats JSON Schema asserts.</summary>
    private static JsonNode Strict(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (key == "$ref" && value is JsonValue reference)
                    {
                        obj["$ref"] = ((string)reference!).Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
                    }
                    else if (key == "format" && value is JsonValue format && !AssertedFormats.Contains((string)format!))
                    {
                        obj.Remove("format");
                    }
                    else if (value is not null)
                    {
                        Strict(value);
                    }
                }
                if (obj["properties"] is JsonObject && !obj.ContainsKey("additionalProperties"))
                {
                    obj["unevaluatedProperties"] = false;
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Strict(item);
                    }
                }
                break;
        }
        return node;
    }
}
