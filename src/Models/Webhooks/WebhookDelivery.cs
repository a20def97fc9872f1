using System.Security.Cryptography;
using System.Text;

namespace Platform.Models.Webhooks;

/// <summary>Holds a delivery leased for one attempt: the outbox row, the number of this attempt, whether it was requeued by hand after it was sent or had
/// failed (it then gets this one attempt only), its endpoint's URL, custom headers (a JSON object of strings) and signing secrets as stored (Data
/// Protection; the former one only while its rotation grace lasts), and the event body as stored.</summary>
public sealed record LeasedWebhookDelivery(
    Guid Id, Guid TenantId, Guid EndpointId, Guid EventId, int Attempt, bool Requeued, string Url, string Headers,
    string ProtectedSecret, string? ProtectedPreviousSecret, string Payload, DateTimeOffset EventCreatedAt);

/// <summary>Holds the outcome of one attempt as the delivery log keeps it, and when to try again after a failure (null when the schedule is used up).</summary>
public sealed record WebhookAttemptResult(
    Guid DeliveryId, int Attempt, bool Succeeded, int? StatusCode, int LatencyMs, string? Excerpt, string? Error,
    DateTimeOffset AttemptedAt, DateTimeOffset? NextAttemptAt);

/// <summary>Holds one request to an endpoint: which endpoint (its connections are its own), where, the exact body, and every header to send
/// (signature included).</summary>
public sealed record WebhookRequest(Guid EndpointId, Uri Url, string Body, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>Holds what came of one request: success (a 2xx), the status code if any answer came, latency, the first 1 KiB of the answer and the error.</summary>
public sealed record WebhookResponse(bool Succeeded, int? StatusCode, int LatencyMs, string? Excerpt, string? Error);

/// <summary>Names an endpoint that has failed without a success since before the auto-disable threshold.</summary>
public sealed record FailingWebhookEndpoint(Guid TenantId, Guid EndpointId, DateTimeOffset FailingSince);

/// <summary>Holds the operator's webhook figures over a window: attempts and their latency, deliveries created in it by wire status, and the pending backlog.</summary>
public sealed record WebhookStatsSnapshot(
    DateTimeOffset Since, long Attempted, long Succeeded, long Failed, double? LatencyP50Ms, double? LatencyP99Ms,
    long DeliveriesPending, long DeliveriesSucceeded, long DeliveriesFailed, long Backlog, long BacklogDue, double? OldestDueSeconds);

/// <summary>Counts what one retention pass removed.</summary>
public sealed record WebhookPurgeResult(int Attempts, int Deliveries, int Events);

/// <summary>Signs webhook requests as the Standard Webhooks specification says: <c>v1,</c> + base64 HMAC-SHA256 of <c>id.timestamp.body</c>, keyed with
/// the base64-decoded part of the secret after <c>whsec_</c>; several signatures (a rotation's grace) are separated by spaces.</summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>Gives the signature of one message under one secret.</summary>
    /// <exception cref="FormatException">The secret is not <c>whsec_</c> + base64.</exception>
    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var key = Key(secret);
        var content = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{messageId}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    /// <summary>Gives the webhook-signature header: the signature under each secret, the current one first, space-separated.</summary>
    public static string Header(IEnumerable<string> secrets, string messageId, long timestamp, string body) =>
        string.Join(' ', secrets.Select(s => Sign(s, messageId, timestamp, body)));

    private static byte[] Key(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var text = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        var key = Convert.FromBase64String(text);
        return key.Length == 0 ? throw new FormatException("A webhook secret may not be empty.") : key;
    }
}
