using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Email;

namespace Platform.Drivers.Email;

/// <summary>Writes outbox messages in the caller's transaction and leases due ones for dispatch across tenants (claim_outbox_messages, finish_outbox_attempt).</summary>
public interface IOutboxDriver
{
    /// <summary>Inserts a pending message, due at once; it commits or rolls back with the change that caused it.</summary>
    Task EnqueueAsync(IDbSession session, NewOutboxMessage message, CancellationToken cancellationToken);

    /// <summary>Leases up to limit due messages whose kind starts with kindPrefix for leaseSeconds, counting the attempt; concurrent callers never get the same message.</summary>
    Task<IReadOnlyList<LeasedOutboxMessage>> ClaimDueAsync(IDbSession session, string kindPrefix, DateTimeOffset now, int leaseSeconds, int limit, CancellationToken cancellationToken);

    /// <summary>Marks a leased attempt sent; returns false when the lease was lost.</summary>
    Task<bool> MarkSentAsync(IDbSession session, Guid id, int attempt, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt: due again at nextAttemptAt, or failed for good when nextAttemptAt is null; returns false when the lease was lost.</summary>
    Task<bool> MarkAttemptFailedAsync(IDbSession session, Guid id, int attempt, string error, DateTimeOffset? nextAttemptAt, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class OutboxDriver : IOutboxDriver
{
    public async Task EnqueueAsync(IDbSession session, NewOutboxMessage message, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at)
            VALUES (@Id, @TenantId, @Kind, @Payload::jsonb, 'pending', 0, @Now, @Now)
            """, message, cancellationToken);
    }

    public async Task<IReadOnlyList<LeasedOutboxMessage>> ClaimDueAsync(IDbSession session, string kindPrefix, DateTimeOffset now, int leaseSeconds, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            "SELECT id, tenant_id, kind, payload, attempts, created_at FROM claim_outbox_messages(@kindPrefix, @now, @leaseSeconds, @limit)",
            new { kindPrefix, now, leaseSeconds, limit }, (LeasedRow r) => new LeasedOutboxMessage(r.Id, r.TenantId, r.Kind, r.Payload, r.Attempts, r.CreatedAt.ToUtcOffset()), cancellationToken);
    }

    public async Task<bool> MarkSentAsync(IDbSession session, Guid id, int attempt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            "SELECT finish_outbox_attempt(@id, @attempt, 'sent', NULL, NULL, @now)", new { id, attempt, now }, cancellationToken);
    }

    public async Task<bool> MarkAttemptFailedAsync(IDbSession session, Guid id, int attempt, string error, DateTimeOffset? nextAttemptAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            "SELECT finish_outbox_attempt(@id, @attempt, @status, @error, @nextAttemptAt, @now)",
            new { id, attempt, status = nextAttemptAt is null ? "failed" : "pending", error, nextAttemptAt, now }, cancellationToken);
    }

    private sealed class LeasedRow
    {
        public Guid Id { get; init; }
        public Guid? TenantId { get; init; }
        public string Kind { get; init; } = "";
        public string Payload { get; init; } = "{}";
        public int Attempts { get; init; }
        public DateTime CreatedAt { get; init; }
    }
}
