using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Api.Tenancy;

namespace Platform.Api.Idempotency;

/// <summary>Computes a request's fingerprint: SHA-256 of its method, route (pattern, route values but the tenant, query) and canonical body.</summary>
public static class RequestFingerprint
{
    /// <summary>Hashes the request; its body must have been buffered (the recorder does so for idempotent routes) and is left rewound.</summary>
    public static async Task<byte[]> ComputeAsync(HttpContext http)
    {
        var request = http.Request;
        if (!request.Body.CanSeek)
        {
            throw new InvalidOperationException("The body of an idempotent request was not buffered: UseIdempotencyRecorder must run first.");
        }
        request.Body.Position = 0;
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, http.RequestAborted);
        request.Body.Position = 0;

        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? request.Path.Value ?? "";
        var values = string.Join("&", request.RouteValues
            .Where(v => v.Key != TenantRouteFilter.RouteKey)
            .OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => $"{v.Key}={v.Value}"));
        return Compute(request.Method, $"{pattern}?{values}{request.QueryString.Value}", body.ToArray());
    }

    /// <summary>Hashes a method, a route and a body; JSON bodies count by their canonical form (object members sorted, no whitespace).</summary>
    public static byte[] Compute(string method, string route, byte[] body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{method.ToUpperInvariant()}\n{route}\n"));
        hash.AppendData(Canonical(body));
        return hash.GetHashAndReset();
    }

    /// <summary>Returns the canonical bytes of a JSON body (object members in ordinal order, no insignificant whitespace, strings re-escaped), or the bytes as they are when they are not JSON.</summary>
    public static byte[] Canonical(byte[] body)
    {
        if (body.Length == 0)
        {
            return body;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            var output = new ArrayBufferWriter<byte>(body.Length);
            using (var writer = new Utf8JsonWriter(output))
            {
                Write(writer, document.RootElement);
            }
            return output.WrittenSpan.ToArray();
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
