using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.ApiKeys;

namespace Platform.Drivers.ApiKeys;

/// <summary>Holds the outcome of a key slot reservation: whether it was admitted, the live keys counted and the limit (-1 unlimited).</summary>
public sealed record ApiKeySlot(bool Admitted, int Active, int Limit);

/// <summary>Reads and writes API keys, their slot counter on the tenant, their rate windows and their cross-tenant lookup by hash.</summary>
public interface IApiKeyDriver
{
    /// <summary>Is the PostgreSQL channel of key changes: "changed:{key id}" when a key is revoked, frozen or unfrozen, and "dropped:{key id}" when an instance has dropped it from its cache.</summary>
    const string Channel = "platform_api_keys";

    const string ChangedPrefix = "changed:";
    const string DroppedPrefix = "dropped:";

    /// <summary>Gets the channels every instance's key change listener LISTENs to.</summary>
    static IReadOnlyList<string> ListenerChannels { get; } = [Channel];

    /// <summary>Counts one more live key on the tenant if the count stays within max_api_keys, in one conditional update.</summary>
    Task<ApiKeySlot> TryReserveKeySlotAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Counts one live key less on the tenant (after a revocation).</summary>
    Task ReleaseKeySlotAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Counts count live keys less on the tenant (after revoking several at once).</summary>
    Task ReleaseKeySlotsAsync(IDbSession session, Guid tenantId, int count, CancellationToken cancellationToken);

    /// <summary>Inserts a key row (hash and prefix only) and returns it.</summary>
    Task<ApiKeySnapshot> InsertApiKeyAsync(IDbSession session, NewApiKey key, CancellationToken cancellationToken);

    /// <summary>Lists the tenant's keys in id order after a cursor id, at most limit rows, each with its creator while the creator is a member.</summary>
    Task<IReadOnlyList<ApiKeyListing>> ListApiKeysAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Fetches one key of the tenant, or null.</summary>
    Task<ApiKeySnapshot?> FetchApiKeyAsync(IDbSession session, Guid tenantId, Guid keyId, CancellationToken cancellationToken);

    /// <summary>Marks a live key revoked and returns it, or null when there is no such unrevoked key.</summary>
    Task<ApiKeySnapshot?> RevokeApiKeyAsync(IDbSession session, Guid tenantId, Guid keyId, string? reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Revokes every live key the user created in the tenant that is not a service key, and returns them.</summary>
    Task<IReadOnlyList<ApiKeySnapshot>> RevokeKeysCreatedByAsync(IDbSession session, Guid tenantId, Guid userId, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Freezes (reason given) or unfreezes (reason null) a key that is not yet in that state and returns it, or null when there is no such key or it already was (the row lock makes a concurrent second change see the first).</summary>
    Task<ApiKeySnapshot?> SetFrozenAsync(IDbSession session, Guid tenantId, Guid keyId, bool frozen, string? reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Announces a key change on Channel; PostgreSQL delivers it to every listener when the transaction commits.</summary>
    Task NotifyApiKeyChangedAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken);

    /// <summary>Announces on Channel that this instance dropped a changed key from its cache.</summary>
    Task NotifyApiKeyDroppedAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken);

    /// <summary>Counts the connections of the service role that listen for key changes (one per API instance whose listener is connected).</summary>
    Task<int> CountChangeListenersAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Finds a key of any tenant by the SHA-256 of its secret (through api_key_by_hash), or null.</summary>
    Task<ApiKeyCredentials?> FindCredentialsByHashAsync(IDbSession session, byte[] keyHash, CancellationToken cancellationToken);

    /// <summary>Lists the keys of any tenant used since a time that could authenticate now (not revoked, frozen or expired), most recently used
    /// first, at most limit, with their hashes (through api_keys_used_since; ADR 0821).</summary>
    Task<IReadOnlyList<RecentApiKey>> ListUsedSinceAsync(IDbSession session, DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Finds the tenant of a key by the key's id, across tenants (through api_key_tenant_id), or null.</summary>
    Task<Guid?> FindTenantIdOfKeyAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken);

    /// <summary>Adds batched request counts and last-use times to keys of any tenant (through record_api_key_usage) and returns the keys updated.</summary>
    Task<int> RecordUsageAsync(IDbSession session, IReadOnlyList<ApiKeyUsage> usage, CancellationToken cancellationToken);

    /// <summary>Counts one request in the key's sliding window if the estimate stays within the limit: floor(previous window's count x previousWeight)
    /// + this window's count must be below the limit before counting. Returns the current window's new count, or null when refused.</summary>
    Task<int?> TryCountRequestAsync(IDbSession session, Guid tenantId, Guid keyId, DateTimeOffset windowStart, double previousWeight, int limit, CancellationToken cancellationToken);

    /// <summary>Reads the key's rate window (its start, the previous window's count and the current count), or null when the key has none.</summary>
    Task<RateWindow?> FetchRateWindowAsync(IDbSession session, Guid tenantId, Guid keyId, CancellationToken cancellationToken);
}

internal sealed class ApiKeyDriver : IApiKeyDriver
{
    private const string Columns =
        """
        k.tenant_id, k.id, k.name, k.prefix, k.permissions, k.allowed_workers, k.rate_limit_rpm, k.max_concurrent_runs,
        (SELECT x.active_runs FROM run_stripe_totals(k.tenant_id, 'key:' || k.id) x) AS active_runs, k.expires_at, k.created_by, k.created_at, k.updated_at, k.last_used_at, k.total_requests,
        k.revoked_at, k.revoked_reason, k.frozen_at, k.frozen_reason, k.service_key
        """;

    public async Task<ApiKeySlot> TryReserveKeySlotAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<SlotRow>(
            """
            UPDATE tenants SET api_keys_active = api_keys_active + 1
            WHERE id = @tenantId AND (max_api_keys = -1 OR api_keys_active < max_api_keys)
            RETURNING api_keys_active AS active, max_api_keys AS max
            """,
            new { tenantId }, cancellationToken);
        if (row is not null)
        {
            return new ApiKeySlot(true, row.Active, row.Max);
        }
        var current = await session.QuerySingleOrDefaultAsync<SlotRow>(
            "SELECT api_keys_active AS active, max_api_keys AS max FROM tenants WHERE id = @tenantId",
            new { tenantId }, cancellationToken);
        return new ApiKeySlot(false, current?.Active ?? 0, current?.Max ?? 0);
    }

    public async Task ReleaseKeySlotAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE tenants SET api_keys_active = greatest(api_keys_active - 1, 0) WHERE id = @tenantId",
            new { tenantId }, cancellationToken);
    }

    public async Task ReleaseKeySlotsAsync(IDbSession session, Guid tenantId, int count, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE tenants SET api_keys_active = greatest(api_keys_active - @count, 0) WHERE id = @tenantId",
            new { tenantId, count }, cancellationToken);
    }

    public async Task<ApiKeySnapshot> InsertApiKeyAsync(IDbSession session, NewApiKey key, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<KeyRow>(
            $"""
            INSERT INTO api_keys AS k (tenant_id, id, name, prefix, key_hash, permissions, allowed_workers, rate_limit_rpm,
                                       max_concurrent_runs, expires_at, created_by, service_key, created_at, updated_at)
            VALUES (@TenantId, @Id, @Name, @Prefix, @KeyHash, @Permissions, @AllowedWorkers, @RateLimitRpm,
                    @MaxConcurrentRuns, @ExpiresAt, @CreatedBy, @ServiceKey, @Now, @Now)
            RETURNING {Columns}
            """,
            new
            {
                key.TenantId, key.Id, key.Name, key.Prefix, key.KeyHash, Permissions = key.Permissions.ToArray(),
                AllowedWorkers = key.AllowedWorkers?.ToArray(), key.RateLimitRpm, key.MaxConcurrentRuns, key.ExpiresAt,
                key.CreatedBy, key.ServiceKey, key.Now,
            },
            cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<IReadOnlyList<ApiKeyListing>> ListApiKeysAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken)
    {
        // users' row-level security shows only the tenant's members, so a creator who left has no email or name here.
        var rows = await session.QueryAsync<ListingRow>(
            $"""
            SELECT {Columns}
            , u.email::text AS creator_email, u.name AS creator_name, m.role AS creator_role
            FROM api_keys k
            LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by
            LEFT JOIN users u ON u.id = m.user_id
            WHERE k.tenant_id = @tenantId AND (@after::uuid IS NULL OR k.id > @after)
            ORDER BY k.id
            LIMIT @limit
            """,
            new { tenantId, after, limit }, cancellationToken);
        return rows.Select(r => new ApiKeyListing(
            r.ToSnapshot(), r.CreatorEmail, r.CreatorName, r.CreatorRole is null ? null : WireNames.Parse<Models.Tenants.TenantRole>(r.CreatorRole))).ToList();
    }

    public async Task<ApiKeySnapshot?> FetchApiKeyAsync(IDbSession session, Guid tenantId, Guid keyId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM api_keys k WHERE k.tenant_id = @tenantId AND k.id = @keyId",
            new { tenantId, keyId }, (KeyRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<ApiKeySnapshot?> RevokeApiKeyAsync(IDbSession session, Guid tenantId, Guid keyId, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE api_keys AS k SET revoked_at = @now, revoked_reason = @reason, updated_at = @now
            WHERE k.tenant_id = @tenantId AND k.id = @keyId AND k.revoked_at IS NULL
            RETURNING {Columns}
            """,
            new { tenantId, keyId, reason, now }, (KeyRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeySnapshot>> RevokeKeysCreatedByAsync(
        IDbSession session, Guid tenantId, Guid userId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<KeyRow>(
            $"""
            UPDATE api_keys AS k SET revoked_at = @now, revoked_reason = @reason, updated_at = @now
            WHERE k.tenant_id = @tenantId AND k.created_by = @userId AND k.revoked_at IS NULL AND NOT k.service_key
            RETURNING {Columns}
            """,
            new { tenantId, userId, reason, now }, cancellationToken);
        return rows.Select(r => r.ToSnapshot()).OrderBy(k => k.Id).ToList();
    }

    public async Task<ApiKeySnapshot?> SetFrozenAsync(IDbSession session, Guid tenantId, Guid keyId, bool frozen, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"""
            UPDATE api_keys AS k SET
                frozen_at = CASE WHEN @frozen THEN coalesce(k.frozen_at, @now) END,
                frozen_reason = CASE WHEN @frozen THEN @reason END,
                updated_at = @now
            WHERE k.tenant_id = @tenantId AND k.id = @keyId AND (k.frozen_at IS NULL) = @frozen
            RETURNING {Columns}
            """,
            new { tenantId, keyId, frozen, reason, now }, (KeyRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task NotifyApiKeyChangedAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "SELECT pg_notify(@channel, @payload)",
            new { channel = IApiKeyDriver.Channel, payload = IApiKeyDriver.ChangedPrefix + keyId }, cancellationToken);
    }

    public async Task NotifyApiKeyDroppedAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "SELECT pg_notify(@channel, @payload)",
            new { channel = IApiKeyDriver.Channel, payload = IApiKeyDriver.DroppedPrefix + keyId }, cancellationToken);
    }

    public async Task<int> CountChangeListenersAsync(IDbSession session, CancellationToken cancellationToken)
    {
        // A listener's connection runs nothing but its LISTEN command (one statement per cached channel), so that stays its last query.
        return await session.ExecuteScalarAsync<int>(
            """
            SELECT count(*)::int FROM pg_stat_activity
            WHERE datname = current_database() AND usename = current_user AND state = 'idle' AND strpos(query, @listen) > 0
            """,
            new { listen = Sessions.ChannelListener.ListenCommand(IApiKeyDriver.ListenerChannels) }, cancellationToken);
    }

    public async Task<ApiKeyCredentials?> FindCredentialsByHashAsync(IDbSession session, byte[] keyHash, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            """
            SELECT tenant_id, id, permissions, allowed_workers, rate_limit_rpm, max_concurrent_runs, expires_at, revoked_at, frozen_at
            FROM api_key_by_hash(@keyHash)
            """,
            new { keyHash }, (CredentialsRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<RecentApiKey>> ListUsedSinceAsync(IDbSession session, DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT key_hash, tenant_id, id, permissions, allowed_workers, rate_limit_rpm, max_concurrent_runs, expires_at, revoked_at, frozen_at
            FROM api_keys_used_since(@since, @limit)
            """,
            new { since, limit }, (RecentRow r) => new RecentApiKey(r.KeyHash, r.ToSnapshot()), cancellationToken);
    }

    public async Task<Guid?> FindTenantIdOfKeyAsync(IDbSession session, Guid keyId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT api_key_tenant_id(@keyId)", new { keyId }, cancellationToken);
    }

    public async Task<int> RecordUsageAsync(IDbSession session, IReadOnlyList<ApiKeyUsage> usage, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>(
            "SELECT record_api_key_usage(@tenantIds, @keyIds, @counts, @lastUsed)",
            new
            {
                tenantIds = usage.Select(u => u.TenantId).ToArray(),
                keyIds = usage.Select(u => u.KeyId).ToArray(),
                counts = usage.Select(u => u.Requests).ToArray(),
                lastUsed = usage.Select(u => u.LastUsedAt.UtcDateTime).ToArray(),
            },
            cancellationToken);
    }

    private static readonly string CountRequest =
        SlidingWindows.CountStatement("api_key_rate_windows", "key_id", "VALUES (@tenantId, @id, @windowStart, 1, 0)");
    private static readonly string FetchWindow = SlidingWindows.FetchStatement("api_key_rate_windows", "key_id");

    public async Task<int?> TryCountRequestAsync(
        IDbSession session, Guid tenantId, Guid keyId, DateTimeOffset windowStart, double previousWeight, int limit, CancellationToken cancellationToken) =>
        await session.QuerySingleOrDefaultAsync<int?>(CountRequest, new { tenantId, id = keyId, windowStart, previousWeight, limit }, cancellationToken);

    public Task<RateWindow?> FetchRateWindowAsync(IDbSession session, Guid tenantId, Guid keyId, CancellationToken cancellationToken) =>
        SlidingWindows.FetchAsync(session, FetchWindow, tenantId, keyId, cancellationToken);

    private sealed class SlotRow
    {
        public int Active { get; init; }
        public int Max { get; init; }
    }

    private class KeyRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string Prefix { get; init; } = "";
        public string[] Permissions { get; init; } = [];
        public string[]? AllowedWorkers { get; init; }
        public int? RateLimitRpm { get; init; }
        public int? MaxConcurrentRuns { get; init; }
        public int ActiveRuns { get; init; }
        public DateTime? ExpiresAt { get; init; }
        public Guid? CreatedBy { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
        public DateTime? LastUsedAt { get; init; }
        public long TotalRequests { get; init; }
        public DateTime? RevokedAt { get; init; }
        public string? RevokedReason { get; init; }
        public DateTime? FrozenAt { get; init; }
        public string? FrozenReason { get; init; }
        public bool ServiceKey { get; init; }

        public ApiKeySnapshot ToSnapshot() => new(
            TenantId, Id, Name, Prefix, Permissions, AllowedWorkers, RateLimitRpm, MaxConcurrentRuns, ActiveRuns,
            ExpiresAt.ToUtcOffset(), CreatedBy, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset(), LastUsedAt.ToUtcOffset(),
            TotalRequests, RevokedAt.ToUtcOffset(), RevokedReason, FrozenAt.ToUtcOffset(), FrozenReason, ServiceKey);
    }

    private sealed class ListingRow : KeyRow
    {
        public string? CreatorEmail { get; init; }
        public string? CreatorName { get; init; }
        public string? CreatorRole { get; init; }
    }

    private class CredentialsRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string[] Permissions { get; init; } = [];
        public string[]? AllowedWorkers { get; init; }
        public int? RateLimitRpm { get; init; }
        public int? MaxConcurrentRuns { get; init; }
        public DateTime? ExpiresAt { get; init; }
        public DateTime? RevokedAt { get; init; }
        public DateTime? FrozenAt { get; init; }

        public ApiKeyCredentials ToSnapshot() => new(
            TenantId, Id, Permissions, AllowedWorkers, RateLimitRpm, MaxConcurrentRuns,
            ExpiresAt.ToUtcOffset(), RevokedAt.ToUtcOffset(), FrozenAt.ToUtcOffset());
    }

    private sealed class RecentRow : CredentialsRow
    {
        public byte[] KeyHash { get; init; } = [];
    }
}
