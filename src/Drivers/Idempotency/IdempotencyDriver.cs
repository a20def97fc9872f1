using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Idempotency;

namespace Platform.Drivers.Idempotency;

/// <summary>Claims, completes and releases Idempotency-Key records: a tenant's (idempotency_keys, under the tenant's row-level security) or a signed-in user's outside any tenant (user_idempotency_keys).</summary>
public interface IIdempotencyDriver
{
    /// <summary>Claims the key with one conditional upsert: inserts it in flight, or takes over a record that expired, or whose lease ran out with the same fingerprint and no effect committed; returns the record as claimed, or null when another holds it.</summary>
    Task<IdempotencyRecordSnapshot?> TryClaimAsync(
        IDbSession session, IdempotencyScope scope, string key, byte[] fingerprint, Guid claimId, DateTimeOffset now, DateTimeOffset leaseUntil,
        DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Fetches the key's record, or null.</summary>
    Task<IdempotencyRecordSnapshot?> FetchAsync(IDbSession session, IdempotencyScope scope, string key, CancellationToken cancellationToken);

    /// <summary>Stores the outcome of the claim still holding the key (status code, headers as JSON, encrypted body); returns false when the claim was taken over meanwhile.</summary>
    Task<bool> CompleteAsync(
        IDbSession session, IdempotencyScope scope, string key, Guid claimId, int statusCode, string headersJson, byte[] bodyEncrypted, DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Deletes the key's record if the claim still holds it and no effect of its request committed, so that a retry runs again; returns whether it did.</summary>
    Task<bool> ReleaseAsync(IDbSession session, IdempotencyScope scope, string key, Guid claimId, CancellationToken cancellationToken);

    /// <summary>Deletes up to limit expired records of each table across tenants and users, through purge_expired_idempotency_keys; returns the rows deleted.</summary>
    Task<int> PurgeExpiredAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);
}

internal sealed class IdempotencyDriver : IIdempotencyDriver
{
    private const string Columns =
        "key, fingerprint, state, claim_id, lease_until, status_code, response_headers::text AS response_headers, response_body_encrypted, created_at, effect_committed_at, expires_at";

    private const string TenantTable = "idempotency_keys";
    private const string TenantKeyColumns = "tenant_id, caller_id, key";
    private const string TenantKeyValues = "@TenantId, @CallerId, @Key";
    private const string TenantKeyMatch = "tenant_id = @TenantId AND caller_id = @CallerId AND key = @Key";

    private const string UserTable = "user_idempotency_keys";
    private const string UserKeyColumns = "user_id, key";
    private const string UserKeyValues = "@CallerId, @Key";
    private const string UserKeyMatch = "user_id = @CallerId AND key = @Key";

    private static readonly string TenantClaimSql = ClaimSql(TenantTable, TenantKeyColumns, TenantKeyValues);
    private static readonly string UserClaimSql = ClaimSql(UserTable, UserKeyColumns, UserKeyValues);

    public async Task<IdempotencyRecordSnapshot?> TryClaimAsync(
        IDbSession session, IdempotencyScope scope, string key, byte[] fingerprint, Guid claimId, DateTimeOffset now, DateTimeOffset leaseUntil,
        DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            scope.TenantId is null ? UserClaimSql : TenantClaimSql,
            new { scope.TenantId, scope.CallerId, Key = key, Fingerprint = fingerprint, ClaimId = claimId, Now = now, LeaseUntil = leaseUntil, ExpiresAt = expiresAt },
            (RecordRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IdempotencyRecordSnapshot?> FetchAsync(IDbSession session, IdempotencyScope scope, string key, CancellationToken cancellationToken)
    {
        var (table, match) = scope.TenantId is null ? (UserTable, UserKeyMatch) : (TenantTable, TenantKeyMatch);
        return await session.FetchAsync(
            $"SELECT {Columns} FROM {table} WHERE {match}",
            new { scope.TenantId, scope.CallerId, Key = key }, (RecordRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<bool> CompleteAsync(
        IDbSession session, IdempotencyScope scope, string key, Guid claimId, int statusCode, string headersJson, byte[] bodyEncrypted, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var (table, match) = scope.TenantId is null ? (UserTable, UserKeyMatch) : (TenantTable, TenantKeyMatch);
        var updated = await session.ExecuteAsync(
            $"""
            UPDATE {table}
            SET state = 'completed', status_code = @StatusCode, response_headers = @Headers::jsonb, response_body_encrypted = @Body, completed_at = @Now
            WHERE {match} AND claim_id = @ClaimId AND state = 'in_flight'
            """,
            new { scope.TenantId, scope.CallerId, Key = key, ClaimId = claimId, StatusCode = statusCode, Headers = headersJson, Body = bodyEncrypted, Now = now },
            cancellationToken);
        return updated == 1;
    }

    public async Task<bool> ReleaseAsync(IDbSession session, IdempotencyScope scope, string key, Guid claimId, CancellationToken cancellationToken)
    {
        var (table, match) = scope.TenantId is null ? (UserTable, UserKeyMatch) : (TenantTable, TenantKeyMatch);
        var deleted = await session.ExecuteAsync(
            $"DELETE FROM {table} WHERE {match} AND claim_id = @ClaimId AND state = 'in_flight' AND effect_committed_at IS NULL",
            new { scope.TenantId, scope.CallerId, Key = key, ClaimId = claimId }, cancellationToken);
        return deleted == 1;
    }

    public async Task<int> PurgeExpiredAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>(
            "SELECT purge_expired_idempotency_keys(@before, @limit)", new { before, limit }, cancellationToken);
    }

    /// <summary>Builds the claim: a new key is inserted in flight; an existing one is taken over only when it expired (not yet purged) or when
    /// it is still in flight past its lease with the same fingerprint and no committed effect (its instance crashed or stalled before); otherwise nothing is returned.</summary>
    private static string ClaimSql(string table, string keyColumns, string keyValues) =>
        $"""
        INSERT INTO {table} AS k ({keyColumns}, fingerprint, state, claim_id, lease_until, created_at, expires_at)
        VALUES ({keyValues}, @Fingerprint, 'in_flight', @ClaimId, @LeaseUntil, @Now, @ExpiresAt)
        ON CONFLICT ({keyColumns}) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, state = 'in_flight', claim_id = EXCLUDED.claim_id, lease_until = EXCLUDED.lease_until,
            status_code = NULL, response_headers = NULL, response_body_encrypted = NULL, created_at = EXCLUDED.created_at,
            completed_at = NULL, effect_committed_at = NULL, expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= @Now
           OR (k.state = 'in_flight' AND k.lease_until <= @Now AND k.fingerprint = EXCLUDED.fingerprint AND k.effect_committed_at IS NULL)
        RETURNING {Columns}
        """;

    private sealed class RecordRow
    {
        public string Key { get; init; } = "";
        public byte[] Fingerprint { get; init; } = [];
        public string State { get; init; } = "";
        public Guid ClaimId { get; init; }
        public DateTime LeaseUntil { get; init; }
        public int? StatusCode { get; init; }
        public string? ResponseHeaders { get; init; }
        public byte[]? ResponseBodyEncrypted { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? EffectCommittedAt { get; init; }
        public DateTime ExpiresAt { get; init; }

        public IdempotencyRecordSnapshot ToSnapshot() => new(
            Key, Fingerprint, State == "completed" ? IdempotencyState.Completed : IdempotencyState.InFlight, ClaimId, LeaseUntil.ToUtcOffset(),
            StatusCode, ResponseHeaders, ResponseBodyEncrypted, CreatedAt.ToUtcOffset(), EffectCommittedAt.ToUtcOffset(), ExpiresAt.ToUtcOffset());
    }
}
