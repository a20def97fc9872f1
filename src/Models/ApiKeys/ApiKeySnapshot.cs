using Platform.Models.Tenants;

namespace Platform.Models.ApiKeys;

/// <summary>Holds an API key's row without its secret: display prefix, permissions, limits (requests per minute, concurrent runs), custody, usage and lifecycle.</summary>
/// <remarks>A service key (ServiceKey) belongs to the tenant; any other key is held by its creator's admin membership (ADR 0195).</remarks>
public sealed record ApiKeySnapshot(
    Guid TenantId,
    Guid Id,
    string Name,
    string Prefix,
    IReadOnlyList<string> Permissions,
    IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm,
    int? MaxConcurrentRuns,
    int ActiveRuns,
    DateTimeOffset? ExpiresAt,
    Guid? CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastUsedAt,
    long TotalRequests,
    DateTimeOffset? RevokedAt,
    string? RevokedReason,
    DateTimeOffset? FrozenAt,
    string? FrozenReason,
    bool ServiceKey)
{
    /// <summary>Gets the key's state at a moment: revoked, frozen, expired or active.</summary>
    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked"
        : FrozenAt is not null ? "frozen"
        : ExpiresAt <= now ? "expired"
        : "active";
}

/// <summary>Holds a key as the list shows it: the row, and its creator's email, name and role while the creator is still a member (else null).</summary>
public sealed record ApiKeyListing(ApiKeySnapshot Key, string? CreatorEmail, string? CreatorName, TenantRole? CreatorRole)
{
    /// <summary>Gets whether the key's creator is still a member of the tenant.</summary>
    public bool CreatorIsMember => CreatorRole is not null;
}

/// <summary>Holds a newly created key together with its secret, which is shown once and never stored.</summary>
public sealed record CreatedApiKey(ApiKeySnapshot Key, string Secret)
{
    /// <summary>Returns the key without the secret, so that no log can carry it.</summary>
    public override string ToString() => $"CreatedApiKey {{ Key = {Key}, Secret = *** }}";
}

/// <summary>Holds the fields of a new key row: the SHA-256 of the secret (32 bytes) and its display prefix, never the secret.</summary>
public sealed record NewApiKey(
    Guid TenantId,
    Guid Id,
    string Name,
    string Prefix,
    byte[] KeyHash,
    IReadOnlyList<string> Permissions,
    IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm,
    int? MaxConcurrentRuns,
    DateTimeOffset? ExpiresAt,
    Guid? CreatedBy,
    bool ServiceKey,
    DateTimeOffset Now);

/// <summary>Holds what authentication needs of a key found by the hash of its secret, across tenants.</summary>
public sealed record ApiKeyCredentials(
    Guid TenantId,
    Guid Id,
    IReadOnlyList<string> Permissions,
    IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm,
    int? MaxConcurrentRuns,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? FrozenAt);

/// <summary>Holds a key used lately and the SHA-256 of its secret, as a starting instance reads them to fill its key cache (ADR 0821).</summary>
public sealed record RecentApiKey(byte[] KeyHash, ApiKeyCredentials Credentials);

/// <summary>Holds the requests one key made since the last flush and the time of the latest one.</summary>
public sealed record ApiKeyUsage(Guid TenantId, Guid KeyId, long Requests, DateTimeOffset LastUsedAt);

/// <summary>Holds a key's rate window: the start of the current one-minute window, the previous window's count and the current count.</summary>
public sealed record RateWindow(DateTimeOffset WindowStart, int PreviousCount, int RequestCount)
{
    /// <summary>Gets when a request would next fit under the limit if none came meanwhile: the weighted estimate
    /// floor(previous x (1 - elapsed share)) + current drops below the limit inside this window, or else inside the next one.</summary>
    public DateTimeOffset NextAdmissionAt(int limit, TimeSpan window)
    {
        if (RequestCount < limit)
        {
            // previous x (1 - f) < limit - current  <=>  f > 1 - (limit - current) / previous
            var share = PreviousCount == 0 ? 0 : Math.Max(0, 1 - (double)(limit - RequestCount) / PreviousCount);
            return WindowStart + window * share;
        }
        // In the next window this window's count is the previous one: current x (1 - f) < limit  <=>  f > 1 - limit / current.
        var nextShare = Math.Max(0, 1 - (double)limit / RequestCount);
        return WindowStart + window + window * nextShare;
    }
}
