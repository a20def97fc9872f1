using Platform.Models.ApiKeys;
using Platform.Models.Plans;

namespace Platform.Api.Contracts;

// Every request field is nullable so that a missing field reaches validation and is named there.

public sealed record CreateApiKeyRequest(
    string? Name, IReadOnlyList<string>? Permissions, IReadOnlyList<string>? AllowedWorkers, int? RateLimitRpm,
    int? MaxConcurrentRuns, DateTimeOffset? ExpiresAt, bool? ServiceKey);

public sealed record RevokeApiKeyRequest(string? Reason);

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

/// <summary>Is the wire form of what a tenant's effective plan grants: features, quotas (plan then overrides; -1 unlimited) and the overrides.</summary>
public sealed record EntitlementsResponse(
    Guid TenantId, string Plan, IReadOnlyList<string> Features, IReadOnlyDictionary<string, bool> AllFeatures,
    IReadOnlyDictionary<string, long> Quotas, IReadOnlyList<QuotaOverrideResponse> Overrides)
{
    public static EntitlementsResponse From(Entitlements e) => new(
        e.TenantId, e.Plan.Id, e.Features.Order().ToList(),
        Models.Plans.Features.All.ToDictionary(f => f, e.HasFeature),
        Models.Plans.Quotas.All.ToDictionary(q => q, q => Models.Plans.Quotas.ValueOf(e.Quotas, q)),
        e.Overrides.Select(o => new QuotaOverrideResponse(o.Quota, o.Value, o.Reason, o.UpdatedAt)).ToList());
}

public sealed record QuotaOverrideResponse(string Quota, long Value, string? Reason, DateTimeOffset UpdatedAt);
