using Platform.Models.ApiKeys;

namespace Platform.Api.ApiKeys;

// Request fields are nullable so that a missing one reaches validation and is named there; optional ones default to null.

public sealed record CreateApiKeyRequest(
    string? Name, IReadOnlyList<string>? Permissions, IReadOnlyList<string>? AllowedWorkers = null, int? RateLimitRpm = null,
    int? MaxConcurrentRuns = null, DateTimeOffset? ExpiresAt = null, bool? ServiceKey = null);

public sealed record RevokeApiKeyRequest(string? Reason = null);

/// <summary>Is the wire form of an API key; it never holds the secret. The creator's email, name and membership are in the list only (null elsewhere).</summary>
public sealed record ApiKeyResponse(
    Guid Id, string Name, string Prefix, string Status, IReadOnlyList<string> Permissions, IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm, int? MaxConcurrentRuns, int ActiveRuns, DateTimeOffset? ExpiresAt, Guid? CreatedBy, DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt, long TotalRequests, DateTimeOffset? RevokedAt, string? RevokedReason, DateTimeOffset? FrozenAt,
    bool ServiceKey, string? CreatedByEmail = null, string? CreatedByName = null, bool? CreatorIsMember = null)
{
    public static ApiKeyResponse From(ApiKeySnapshot k, DateTimeOffset now) => new(
        k.Id, k.Name, k.Prefix, k.StatusAt(now), k.Permissions, k.AllowedWorkers, k.RateLimitRpm, k.MaxConcurrentRuns, k.ActiveRuns,
        k.ExpiresAt, k.CreatedBy, k.CreatedAt, k.LastUsedAt, k.TotalRequests, k.RevokedAt, k.RevokedReason, k.FrozenAt, k.ServiceKey);

    public static ApiKeyResponse From(ApiKeyListing l, DateTimeOffset now) => From(l.Key, now) with
    {
        CreatedByEmail = l.CreatorEmail,
        CreatedByName = l.CreatorName,
        CreatorIsMember = l.CreatorIsMember,
    };
}

/// <summary>Is the answer to a key creation: the key and, this once, its secret.</summary>
public sealed record CreatedApiKeyResponse(
    Guid Id, string Name, string Prefix, string Status, IReadOnlyList<string> Permissions, IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm, int? MaxConcurrentRuns, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt, bool ServiceKey, string Key)
{
    public static CreatedApiKeyResponse From(CreatedApiKey created, DateTimeOffset now)
    {
        var k = created.Key;
        return new(k.Id, k.Name, k.Prefix, k.StatusAt(now), k.Permissions, k.AllowedWorkers, k.RateLimitRpm, k.MaxConcurrentRuns,
            k.ExpiresAt, k.CreatedAt, k.ServiceKey, created.Secret);
    }
}
