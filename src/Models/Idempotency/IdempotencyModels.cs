namespace Platform.Models.Idempotency;

/// <summary>Names whose key space an Idempotency-Key belongs to: a tenant and its caller (a user or an API key), or, with no tenant, the signed-in user.</summary>
public sealed record IdempotencyScope(Guid? TenantId, Guid CallerId);

/// <summary>Says where a claimed key stands: in flight (claimed, its outcome not yet stored) or completed (its response stored).</summary>
public enum IdempotencyState
{
    InFlight,
    Completed,
}

/// <summary>Is one stored Idempotency-Key record as read after a claim; the body is still Data Protection ciphertext.</summary>
public sealed record IdempotencyRecordSnapshot(
    string Key,
    byte[] Fingerprint,
    IdempotencyState State,
    Guid ClaimId,
    DateTimeOffset LeaseUntil,
    int? StatusCode,
    string? ResponseHeaders,
    byte[]? ResponseBodyEncrypted,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EffectCommittedAt,
    DateTimeOffset ExpiresAt);

/// <summary>Is a response kept for replay: status code, the headers worth replaying (Location, Content-Type) and the body bytes.</summary>
public sealed record IdempotentResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>Holds the rules of the Idempotency-Key header value and of which outcomes are kept.</summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>Tells whether a header value is a usable key: 1 to 255 printable ASCII characters (space through tilde).</summary>
    public static bool IsValid(string? key) =>
        key is { Length: >= 1 and <= MaxLength } && key.All(c => c is >= ' ' and <= '~');

    /// <summary>Tells whether an outcome is stored and replayed (2xx and the 4xx refusals) or releases the key so that a retry runs again.</summary>
    /// <remarks>Released: 400, 408, 413 and 422 (the input never reached the business rule, as Stripe does not store failed validation),
    /// 429 (a rate or quota refusal that a later retry may pass) and everything else, 5xx in particular.</remarks>
    public static bool IsStored(int statusCode) =>
        statusCode is >= 200 and < 300
        || (statusCode is >= 400 and < 500 && statusCode is not (400 or 408 or 413 or 422 or 429));
}
