namespace Platform.Models.ApiKeys;

/// <summary>Holds an API key's row without its secret: display prefix, permissions, limits (requests per minute, concurrent runs), usage and lifecycle.</summary>
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
    string? FrozenReason)
{
    /// <summary>Gets the key's state at a moment: revoked, frozen, expired or active.</summary>
    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked"
        : FrozenAt is not null ? "frozen"
        : ExpiresAt <= now ? "expired"
        : "active";
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

/// <summary>Holds the requests one key made since the last flush and the time of the latest one.</summary>
public sealed record ApiKeyUsage(Guid TenantId, Guid KeyId, long Requests, DateTimeOffset LastUsedAt);
