using System.Net;

namespace Platform.Models.Webhooks;

/// <summary>Is a tenant's webhook endpoint as read back: never its secret, only whether a former secret still signs and until when.</summary>
public sealed record WebhookEndpointSnapshot(
    Guid TenantId,
    Guid Id,
    string Url,
    string Description,
    IReadOnlyList<string>? EventTypes,
    bool Enabled,
    int? RateLimit,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset? PreviousSecretExpiresAt,
    DateTimeOffset? FailingSince,
    string? DisabledReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Holds a new endpoint to insert; Secret is already protected.</summary>
public sealed record NewWebhookEndpoint(
    Guid TenantId, Guid Id, string Url, string Description, IReadOnlyList<string>? EventTypes, bool Enabled, int? RateLimit,
    IReadOnlyDictionary<string, string> Headers, string Secret, DateTimeOffset Now);

/// <summary>Holds the fields a PATCH changes; a null member keeps its value, except where a Set flag says the (possibly null) value is new.</summary>
public sealed record WebhookEndpointChanges(
    string? Url = null,
    string? Description = null,
    bool SetEventTypes = false,
    IReadOnlyList<string>? EventTypes = null,
    bool? Enabled = null,
    bool SetRateLimit = false,
    int? RateLimit = null,
    IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>Is the status of a delivery on the wire: the outbox's pending, sent and failed.</summary>
[WireEnum]
public enum WebhookDeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>Maps the outbox's status column to the wire status of a delivery and back.</summary>
public static class WebhookDeliveryStatuses
{
    public static WebhookDeliveryStatus FromOutbox(string status) => status switch
    {
        "sent" => WebhookDeliveryStatus.Succeeded,
        "failed" => WebhookDeliveryStatus.Failed,
        _ => WebhookDeliveryStatus.Pending,
    };

    public static string ToOutbox(WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Succeeded => "sent",
        WebhookDeliveryStatus.Failed => "failed",
        _ => "pending",
    };
}

/// <summary>Is one delivery of an event to an endpoint (an outbox row of kind 'webhook') as listed in the endpoint's log.</summary>
public sealed record WebhookDeliverySnapshot(
    Guid Id, Guid EndpointId, Guid EventId, string EventType, WebhookDeliveryStatus Status, int Attempts, DateTimeOffset? NextAttemptAt,
    string? LastError, DateTimeOffset CreatedAt);

/// <summary>Is one attempt of a delivery: when, the HTTP status (null when none came), latency, the response excerpt and the error.</summary>
public sealed record WebhookAttemptSnapshot(
    Guid Id, Guid DeliveryId, Guid EndpointId, int Attempt, DateTimeOffset AttemptedAt, bool Succeeded, int? StatusCode, int? LatencyMs,
    string? ResponseExcerpt, string? Error);

/// <summary>Is an event (a message) of a tenant: its type, time and the exact body sent.</summary>
public sealed record WebhookEventSnapshot(Guid Id, string Type, string Payload, DateTimeOffset CreatedAt);

/// <summary>Is a message with every delivery of it and every attempt of those.</summary>
public sealed record WebhookMessageDetail(
    WebhookEventSnapshot Event, IReadOnlyList<WebhookDeliverySnapshot> Deliveries, IReadOnlyList<WebhookAttemptSnapshot> Attempts);

/// <summary>Holds the rules of an endpoint's URL and custom headers (no I/O: a literal IP host is judged here, names at delivery).</summary>
public static class WebhookEndpointRules
{
    public const int MaxUrlLength = 2048;
    public const int MaxHeaders = 20;
    public const int MaxHeaderValueLength = 1000;
    public const int MaxDescriptionLength = 500;
    public const int MinRateLimit = 1;
    public const int MaxRateLimit = 10_000;

    /// <summary>Header names a tenant may not set: hop-by-hop headers, the ones the HTTP client computes, and our own webhook-* signature headers.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "content-type",
        "content-encoding", "expect",
    };

    /// <summary>Returns why the URL cannot be an endpoint's, or null when it can: absolute, https (http only to a loopback host when
    /// allowLoopback), no user-info, no fragment, at most 2048 characters, and a literal IP host must be one a delivery may connect to.</summary>
    public static string? CheckUrl(string? url, bool allowLoopback)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "The URL is required.";
        }
        if (url.Length > MaxUrlLength)
        {
            return $"The URL must be at most {MaxUrlLength} characters.";
        }
        if (url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "The URL must not contain spaces or control characters.";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.HostNameType == UriHostNameType.Unknown || string.IsNullOrEmpty(uri.Host))
        {
            return "The URL must be absolute, as https://host/path.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "The URL must not carry a user name or password; use a custom header for credentials.";
        }
        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "The URL must not have a fragment (#...).";
        }
        var loopbackHost = IsLoopbackHost(uri);
        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            if (!(allowLoopback && loopbackHost))
            {
                return allowLoopback
                    ? "The URL must use https (http only to localhost or a loopback address)."
                    : "The URL must use https.";
            }
        }
        else if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return "The URL must use https.";
        }
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address)
            && !WebhookAddressPolicy.IsAllowed(address, allowLoopback))
        {
            return $"The URL's address is not allowed: it is {WebhookAddressPolicy.Classify(address).ToString().ToLowerInvariant()}; endpoints must be public addresses.";
        }
        if (uri.HostNameType == UriHostNameType.Dns && uri.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !allowLoopback)
        {
            return "The URL's host is loopback (localhost); endpoints must be public addresses.";
        }
        return null;
    }

    private static bool IsLoopbackHost(Uri uri)
    {
        if (uri.HostNameType == UriHostNameType.Dns)
        {
            return uri.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase);
        }
        return IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>Returns, per offending header, why the custom headers cannot be used, or an empty list: at most 20; names are HTTP tokens and not
    /// reserved (hop-by-hop, computed by the client, proxy-*, webhook-*); values at most 1000 characters without CR, LF or NUL.</summary>
    public static IReadOnlyList<string> CheckHeaders(IReadOnlyDictionary<string, string?>? headers)
    {
        var problems = new List<string>();
        if (headers is null)
        {
            return problems;
        }
        if (headers.Count > MaxHeaders)
        {
            problems.Add($"At most {MaxHeaders} headers.");
            return problems;
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            if (!IsToken(name))
            {
                problems.Add($"'{Shorten(name)}' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only, at most 100).");
            }
            else if (IsReserved(name))
            {
                problems.Add($"'{name}' is set by Platform or the HTTP client and cannot be a custom header.");
            }
            else if (!seen.Add(name))
            {
                problems.Add($"'{name}' is named twice (header names are case-insensitive).");
            }
            if (value is null)
            {
                problems.Add($"The value of '{Shorten(name)}' must be a string.");
            }
            else if (value.Length > MaxHeaderValueLength)
            {
                problems.Add($"The value of '{Shorten(name)}' must be at most {MaxHeaderValueLength} characters.");
            }
            else if (value.Any(c => c is '\r' or '\n' or '\0' || (char.IsControl(c) && c != '\t')))
            {
                problems.Add($"The value of '{Shorten(name)}' must not contain line breaks or control characters.");
            }
            else if (value.Any(c => c > '\u00ff'))
            {
                problems.Add($"The value of '{Shorten(name)}' must be Latin-1 text (encode other characters).");
            }
        }
        return problems;
    }

    public static bool IsReserved(string name) =>
        Reserved.Contains(name)
        || name.StartsWith("proxy-", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("webhook-", StringComparison.OrdinalIgnoreCase);

    private static bool IsToken(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
