using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Webhooks;

namespace Platform.Drivers.Webhooks;

/// <summary>Leases webhook deliveries across tenants and records their attempts (claim_webhook_deliveries, finish_webhook_attempts); disables a failing
/// endpoint in its tenant's scope; purges the delivery log and reads the operator's figures.</summary>
public interface IWebhookDeliveryDriver
{
    /// <summary>Leases up to limit due deliveries for leaseSeconds, counting the attempt; concurrent callers never get the same delivery.</summary>
    Task<IReadOnlyList<LeasedWebhookDelivery>> ClaimDueAsync(IDbSession session, DateTimeOffset now, int leaseSeconds, int limit, CancellationToken cancellationToken);

    /// <summary>Records the attempts (lost leases are ignored) and returns the enabled endpoints failing since before disableBefore.</summary>
    Task<IReadOnlyList<FailingWebhookEndpoint>> FinishAsync(
        IDbSession session, IReadOnlyList<WebhookAttemptResult> results, DateTimeOffset disableBefore, CancellationToken cancellationToken);

    /// <summary>Disables the endpoint of the session's tenant if it is still enabled and failing since before disableBefore; returns its URL, or null
    /// when it no longer qualifies (a success came, someone else disabled it).</summary>
    Task<string?> DisableFailingAsync(
        IDbSession session, Guid tenantId, Guid endpointId, DateTimeOffset disableBefore, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives the tenant's name and the email addresses of its owners and admins (in the session's tenant scope).</summary>
    Task<(string TenantName, IReadOnlyList<string> Emails)> AdminEmailsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Deletes at most limit attempts, finished deliveries and events without a pending delivery, each older than before.</summary>
    Task<WebhookPurgeResult> PurgeAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>Reads the delivery figures across tenants since a time.</summary>
    Task<WebhookStatsSnapshot> StatsAsync(IDbSession session, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class WebhookDeliveryDriver : IWebhookDeliveryDriver
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public Task<IReadOnlyList<LeasedWebhookDelivery>> ClaimDueAsync(IDbSession session, DateTimeOffset now, int leaseSeconds, int limit, CancellationToken cancellationToken) =>
        session.ListAsync(
            """
            SELECT id, tenant_id, endpoint_id, event_id, attempts, requeued, url, headers, secret, previous_secret, payload, event_created_at
            FROM claim_webhook_deliveries(@now, @leaseSeconds, @limit)
            """,
            new { now, leaseSeconds, limit },
            (LeasedRow r) => new LeasedWebhookDelivery(r.Id, r.TenantId, r.EndpointId, r.EventId, r.Attempts, r.Requeued, r.Url, r.Headers, r.Secret,
                r.PreviousSecret, r.Payload, r.EventCreatedAt.ToUtcOffset()),
            cancellationToken);

    public Task<IReadOnlyList<FailingWebhookEndpoint>> FinishAsync(
        IDbSession session, IReadOnlyList<WebhookAttemptResult> results, DateTimeOffset disableBefore, CancellationToken cancellationToken)
    {
        var rows = results.Select(r => new
        {
            delivery_id = r.DeliveryId,
            attempt = r.Attempt,
            succeeded = r.Succeeded,
            status_code = r.StatusCode,
            latency_ms = r.LatencyMs,
            excerpt = r.Excerpt,
            error = r.Error,
            attempted_at = r.AttemptedAt,
            next_attempt_at = r.NextAttemptAt,
        });
        return session.ListAsync(
            "SELECT tenant_id, endpoint_id, failing_since FROM finish_webhook_attempts(@results::jsonb, @disableBefore)",
            new { results = JsonSerializer.Serialize(rows, Json), disableBefore },
            (FailingRow r) => new FailingWebhookEndpoint(r.TenantId, r.EndpointId, r.FailingSince.ToUtcOffset()),
            cancellationToken);
    }

    public Task<string?> DisableFailingAsync(
        IDbSession session, Guid tenantId, Guid endpointId, DateTimeOffset disableBefore, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        session.QuerySingleOrDefaultAsync<string>(
            """
            UPDATE webhook_endpoints
            SET enabled = false, disabled_reason = @reason, updated_at = @now
            WHERE tenant_id = @tenantId AND id = @endpointId AND enabled AND failing_since < @disableBefore
            RETURNING url
            """,
            new { tenantId, endpointId, disableBefore, reason, now }, cancellationToken);

    public async Task<(string TenantName, IReadOnlyList<string> Emails)> AdminEmailsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<AdminsRow>(
            """
            SELECT t.name AS tenant_name,
                   coalesce(array_agg(u.email::text ORDER BY u.email) FILTER (WHERE u.id IS NOT NULL), '{}') AS emails
            FROM tenants t
            LEFT JOIN memberships m ON m.tenant_id = t.id AND m.role IN ('owner', 'admin')
            LEFT JOIN users u ON u.id = m.user_id
            WHERE t.id = @tenantId
            GROUP BY t.name
            """,
            new { tenantId }, cancellationToken);
        return row is null ? ("", []) : (row.TenantName, row.Emails);
    }

    public Task<WebhookPurgeResult> PurgeAsync(IDbSession session, DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        session.QuerySingleAsync<WebhookPurgeResult>(
            "SELECT attempts, deliveries, events FROM purge_webhook_log(@before, @limit)", new { before, limit }, cancellationToken);

    public async Task<WebhookStatsSnapshot> StatsAsync(IDbSession session, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var r = await session.QuerySingleAsync<StatsRow>(
            """
            SELECT attempted, succeeded, failed, latency_p50_ms, latency_p99_ms, deliveries_pending, deliveries_succeeded, deliveries_failed,
                   backlog, backlog_due, oldest_due_seconds
            FROM webhook_delivery_stats(@since, @now)
            """, new { since, now }, cancellationToken);
        return new WebhookStatsSnapshot(since, r.Attempted, r.Succeeded, r.Failed, r.LatencyP50Ms, r.LatencyP99Ms, r.DeliveriesPending, r.DeliveriesSucceeded,
            r.DeliveriesFailed, r.Backlog, r.BacklogDue, r.OldestDueSeconds);
    }

    private sealed class LeasedRow
    {
        public Guid Id { get; init; }
        public Guid TenantId { get; init; }
        public Guid EndpointId { get; init; }
        public Guid EventId { get; init; }
        public int Attempts { get; init; }
        public bool Requeued { get; init; }
        public string Url { get; init; } = "";
        public string Headers { get; init; } = "{}";
        public string Secret { get; init; } = "";
        public string? PreviousSecret { get; init; }
        public string Payload { get; init; } = "{}";
        public DateTime EventCreatedAt { get; init; }
    }

    private sealed class AdminsRow
    {
        public string TenantName { get; init; } = "";
        public string[] Emails { get; init; } = [];
    }

    private sealed class FailingRow
    {
        public Guid TenantId { get; init; }
        public Guid EndpointId { get; init; }
        public DateTime FailingSince { get; init; }
    }

    private sealed class StatsRow
    {
        public long Attempted { get; init; }
        public long Succeeded { get; init; }
        public long Failed { get; init; }
        public double? LatencyP50Ms { get; init; }
        public double? LatencyP99Ms { get; init; }
        public long DeliveriesPending { get; init; }
        public long DeliveriesSucceeded { get; init; }
        public long DeliveriesFailed { get; init; }
        public long Backlog { get; init; }
        public long BacklogDue { get; init; }
        public double? OldestDueSeconds { get; init; }
    }
}
