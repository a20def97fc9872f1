using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Webhooks;

namespace Platform.Drivers.Webhooks;

/// <summary>Reads and writes a tenant's webhook endpoints, lists their deliveries (outbox rows of kind 'webhook') and attempts, and puts finished
/// deliveries back in the queue (retry, recover). Secrets go in already protected and never come out.</summary>
public interface IWebhookEndpointDriver
{
    /// <summary>Counts the tenant's endpoints (the caller holds the tenant row lock, so the count stays true until commit).</summary>
    Task<int> CountEndpointsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    Task<WebhookEndpointSnapshot> InsertEndpointAsync(IDbSession session, NewWebhookEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>Lists the tenant's endpoints in id (creation) order after a cursor id, at most limit rows.</summary>
    Task<IReadOnlyList<WebhookEndpointSnapshot>> ListEndpointsAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken);

    Task<WebhookEndpointSnapshot?> FetchEndpointAsync(IDbSession session, Guid tenantId, Guid endpointId, CancellationToken cancellationToken);

    /// <summary>Applies the changes and returns the endpoint, or null when there is none; enabling clears failing_since and disabled_reason.</summary>
    Task<WebhookEndpointSnapshot?> UpdateEndpointAsync(
        IDbSession session, Guid tenantId, Guid endpointId, WebhookEndpointChanges changes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes the endpoint (its deliveries and attempts go with it by cascade) and returns it as it was, or null when there is none.</summary>
    Task<WebhookEndpointSnapshot?> DeleteEndpointAsync(IDbSession session, Guid tenantId, Guid endpointId, CancellationToken cancellationToken);

    /// <summary>Makes the new protected secret the signing one and keeps the current one as previous_secret until previousExpiresAt.</summary>
    Task<WebhookEndpointSnapshot?> RotateSecretAsync(
        IDbSession session, Guid tenantId, Guid endpointId, string newProtectedSecret, DateTimeOffset previousExpiresAt, DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Lists an endpoint's deliveries newest first (by event id, a UUIDv7) before a cursor event id, optionally by outbox status and event type.</summary>
    Task<IReadOnlyList<WebhookDeliverySnapshot>> ListDeliveriesAsync(
        IDbSession session, Guid tenantId, Guid endpointId, string? outboxStatus, string? eventType, Guid? beforeEventId, int limit,
        CancellationToken cancellationToken);

    /// <summary>Reads an event with its deliveries and their attempts, or null when the tenant has no such event.</summary>
    Task<WebhookMessageDetail?> FetchMessageAsync(IDbSession session, Guid tenantId, Guid eventId, CancellationToken cancellationToken);

    /// <summary>Puts the event's finished (sent or failed) deliveries, to one endpoint or all, back in the queue due now; returns how many.</summary>
    Task<int> RequeueEventAsync(IDbSession session, Guid tenantId, Guid eventId, Guid? endpointId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Puts the endpoint's failed deliveries created at or after since back in the queue due now; returns how many.</summary>
    Task<int> RequeueFailedSinceAsync(IDbSession session, Guid tenantId, Guid endpointId, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class WebhookEndpointDriver : IWebhookEndpointDriver
{
    private const string Columns =
        """
        e.tenant_id, e.id, e.url, e.description, e.event_types, e.enabled, e.rate_limit, e.headers::text AS headers,
        e.previous_secret_expires_at, e.failing_since, e.disabled_reason, e.created_at, e.updated_at
        """;

    private const string DeliveryColumns =
        """
        o.id, o.endpoint_id, o.event_id, ev.type AS event_type, o.status, o.attempts,
        CASE WHEN o.status = 'pending' THEN greatest(o.next_attempt_at, o.leased_until) END AS next_attempt_at, o.last_error, o.created_at
        """;

    public async Task<int> CountEndpointsAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken) =>
        await session.ExecuteScalarAsync<int>("SELECT count(*)::int FROM webhook_endpoints WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken);

    public async Task<WebhookEndpointSnapshot> InsertEndpointAsync(IDbSession session, NewWebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<EndpointRow>(
            $"""
            INSERT INTO webhook_endpoints AS e (tenant_id, id, url, description, event_types, enabled, rate_limit, headers, secret, created_at, updated_at)
            VALUES (@TenantId, @Id, @Url, @Description, @EventTypes::text[], @Enabled, @RateLimit::int, @Headers::jsonb, @Secret, @Now, @Now)
            RETURNING {Columns}
            """,
            new
            {
                endpoint.TenantId, endpoint.Id, endpoint.Url, endpoint.Description, EventTypes = endpoint.EventTypes?.ToArray(), endpoint.Enabled,
                endpoint.RateLimit, Headers = JsonSerializer.Serialize(endpoint.Headers), endpoint.Secret, endpoint.Now,
            },
            cancellationToken);
        return row.ToSnapshot();
    }

    public Task<IReadOnlyList<WebhookEndpointSnapshot>> ListEndpointsAsync(IDbSession session, Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken) =>
        session.ListAsync<EndpointRow, WebhookEndpointSnapshot>(
            $"""
            SELECT {Columns} FROM webhook_endpoints e
            WHERE e.tenant_id = @tenantId AND (@after::uuid IS NULL OR e.id > @after)
            ORDER BY e.id
            LIMIT @limit
            """,
            new { tenantId, after, limit }, r => r.ToSnapshot(), cancellationToken);

    public Task<WebhookEndpointSnapshot?> FetchEndpointAsync(IDbSession session, Guid tenantId, Guid endpointId, CancellationToken cancellationToken) =>
        session.FetchAsync<EndpointRow, WebhookEndpointSnapshot>(
            $"SELECT {Columns} FROM webhook_endpoints e WHERE e.tenant_id = @tenantId AND e.id = @endpointId",
            new { tenantId, endpointId }, r => r.ToSnapshot(), cancellationToken);

    public Task<WebhookEndpointSnapshot?> UpdateEndpointAsync(
        IDbSession session, Guid tenantId, Guid endpointId, WebhookEndpointChanges changes, DateTimeOffset now, CancellationToken cancellationToken) =>
        session.FetchAsync<EndpointRow, WebhookEndpointSnapshot>(
            $"""
            UPDATE webhook_endpoints AS e SET
                url = coalesce(@Url::text, e.url),
                description = coalesce(@Description::text, e.description),
                event_types = CASE WHEN @SetEventTypes THEN @EventTypes::text[] ELSE e.event_types END,
                enabled = coalesce(@Enabled::boolean, e.enabled),
                rate_limit = CASE WHEN @SetRateLimit THEN @RateLimit::int ELSE e.rate_limit END,
                headers = coalesce(@Headers::text::jsonb, e.headers),
                failing_since = CASE WHEN @Enabled::boolean IS TRUE THEN NULL ELSE e.failing_since END,
                disabled_reason = CASE WHEN @Enabled::boolean IS TRUE THEN NULL ELSE e.disabled_reason END,
                updated_at = @now
            WHERE e.tenant_id = @tenantId AND e.id = @endpointId
            RETURNING {Columns}
            """,
            new
            {
                tenantId, endpointId, now, changes.Url, changes.Description, changes.SetEventTypes, EventTypes = changes.EventTypes?.ToArray(),
                changes.Enabled, changes.SetRateLimit, changes.RateLimit,
                Headers = changes.Headers is null ? null : JsonSerializer.Serialize(changes.Headers),
            },
            r => r.ToSnapshot(), cancellationToken);

    public Task<WebhookEndpointSnapshot?> DeleteEndpointAsync(IDbSession session, Guid tenantId, Guid endpointId, CancellationToken cancellationToken) =>
        session.FetchAsync<EndpointRow, WebhookEndpointSnapshot>(
            $"DELETE FROM webhook_endpoints e WHERE e.tenant_id = @tenantId AND e.id = @endpointId RETURNING {Columns}",
            new { tenantId, endpointId }, r => r.ToSnapshot(), cancellationToken);

    public Task<WebhookEndpointSnapshot?> RotateSecretAsync(
        IDbSession session, Guid tenantId, Guid endpointId, string newProtectedSecret, DateTimeOffset previousExpiresAt, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        session.FetchAsync<EndpointRow, WebhookEndpointSnapshot>(
            $"""
            UPDATE webhook_endpoints AS e
            SET previous_secret = e.secret, previous_secret_expires_at = @previousExpiresAt, secret = @newProtectedSecret, updated_at = @now
            WHERE e.tenant_id = @tenantId AND e.id = @endpointId
            RETURNING {Columns}
            """,
            new { tenantId, endpointId, newProtectedSecret, previousExpiresAt, now }, r => r.ToSnapshot(), cancellationToken);

    public Task<IReadOnlyList<WebhookDeliverySnapshot>> ListDeliveriesAsync(
        IDbSession session, Guid tenantId, Guid endpointId, string? outboxStatus, string? eventType, Guid? beforeEventId, int limit,
        CancellationToken cancellationToken) =>
        session.ListAsync<DeliveryRow, WebhookDeliverySnapshot>(
            $"""
            SELECT {DeliveryColumns}
            FROM outbox_messages o
            JOIN webhook_events ev ON ev.tenant_id = o.tenant_id AND ev.id = o.event_id
            WHERE o.tenant_id = @tenantId AND o.kind = 'webhook' AND o.endpoint_id = @endpointId
              AND (@outboxStatus::text IS NULL OR o.status = @outboxStatus)
              AND (@eventType::text IS NULL OR ev.type = @eventType)
              AND (@beforeEventId::uuid IS NULL OR o.event_id < @beforeEventId)
            ORDER BY o.event_id DESC
            LIMIT @limit
            """,
            new { tenantId, endpointId, outboxStatus, eventType, beforeEventId, limit }, r => r.ToSnapshot(), cancellationToken);

    public async Task<WebhookMessageDetail?> FetchMessageAsync(IDbSession session, Guid tenantId, Guid eventId, CancellationToken cancellationToken)
    {
        var ev = await session.FetchAsync<EventRow, WebhookEventSnapshot>(
            "SELECT id, type, payload::text AS payload, created_at FROM webhook_events WHERE tenant_id = @tenantId AND id = @eventId",
            new { tenantId, eventId }, r => new WebhookEventSnapshot(r.Id, r.Type, r.Payload, r.CreatedAt.ToUtcOffset()), cancellationToken);
        if (ev is null)
        {
            return null;
        }
        var deliveries = await session.ListAsync<DeliveryRow, WebhookDeliverySnapshot>(
            $"""
            SELECT {DeliveryColumns}
            FROM outbox_messages o
            JOIN webhook_events ev ON ev.tenant_id = o.tenant_id AND ev.id = o.event_id
            WHERE o.tenant_id = @tenantId AND o.kind = 'webhook' AND o.event_id = @eventId
            ORDER BY o.endpoint_id
            """,
            new { tenantId, eventId }, r => r.ToSnapshot(), cancellationToken);
        var attempts = await session.ListAsync<AttemptRow, WebhookAttemptSnapshot>(
            """
            SELECT a.id, a.delivery_id, a.endpoint_id, a.attempt, a.attempted_at, a.succeeded, a.status_code, a.latency_ms, a.response_excerpt, a.error
            FROM webhook_attempts a
            WHERE a.tenant_id = @tenantId AND a.event_id = @eventId
            ORDER BY a.attempted_at, a.attempt
            """,
            new { tenantId, eventId }, r => r.ToSnapshot(), cancellationToken);
        return new WebhookMessageDetail(ev, deliveries, attempts);
    }

    public Task<int> RequeueEventAsync(IDbSession session, Guid tenantId, Guid eventId, Guid? endpointId, DateTimeOffset now, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            """
            UPDATE outbox_messages SET status = 'pending', next_attempt_at = @now
            WHERE tenant_id = @tenantId AND kind = 'webhook' AND event_id = @eventId AND status IN ('sent', 'failed')
              AND (@endpointId::uuid IS NULL OR endpoint_id = @endpointId)
            """,
            new { tenantId, eventId, endpointId, now }, cancellationToken);

    public Task<int> RequeueFailedSinceAsync(IDbSession session, Guid tenantId, Guid endpointId, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            """
            UPDATE outbox_messages SET status = 'pending', next_attempt_at = @now
            WHERE tenant_id = @tenantId AND kind = 'webhook' AND endpoint_id = @endpointId AND status = 'failed' AND created_at >= @since
            """,
            new { tenantId, endpointId, since, now }, cancellationToken);

    private sealed class EndpointRow
    {
        public Guid TenantId { get; init; }
        public Guid Id { get; init; }
        public string Url { get; init; } = "";
        public string Description { get; init; } = "";
        public string[]? EventTypes { get; init; }
        public bool Enabled { get; init; }
        public int? RateLimit { get; init; }
        public string Headers { get; init; } = "{}";
        public DateTime? PreviousSecretExpiresAt { get; init; }
        public DateTime? FailingSince { get; init; }
        public string? DisabledReason { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public WebhookEndpointSnapshot ToSnapshot() => new(
            TenantId, Id, Url, Description, EventTypes, Enabled, RateLimit,
            JsonSerializer.Deserialize<Dictionary<string, string>>(Headers) ?? [],
            PreviousSecretExpiresAt.ToUtcOffset(), FailingSince.ToUtcOffset(), DisabledReason, CreatedAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }

    private sealed class DeliveryRow
    {
        public Guid Id { get; init; }
        public Guid EndpointId { get; init; }
        public Guid EventId { get; init; }
        public string EventType { get; init; } = "";
        public string Status { get; init; } = "";
        public int Attempts { get; init; }
        public DateTime? NextAttemptAt { get; init; }
        public string? LastError { get; init; }
        public DateTime CreatedAt { get; init; }

        public WebhookDeliverySnapshot ToSnapshot() => new(
            Id, EndpointId, EventId, EventType, WebhookDeliveryStatuses.FromOutbox(Status), Attempts, NextAttemptAt.ToUtcOffset(), LastError,
            CreatedAt.ToUtcOffset());
    }

    private sealed class EventRow
    {
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public string Payload { get; init; } = "";
        public DateTime CreatedAt { get; init; }
    }

    private sealed class AttemptRow
    {
        public Guid Id { get; init; }
        public Guid DeliveryId { get; init; }
        public Guid EndpointId { get; init; }
        public int Attempt { get; init; }
        public DateTime AttemptedAt { get; init; }
        public bool Succeeded { get; init; }
        public int? StatusCode { get; init; }
        public int? LatencyMs { get; init; }
        public string? ResponseExcerpt { get; init; }
        public string? Error { get; init; }

        public WebhookAttemptSnapshot ToSnapshot() => new(
            Id, DeliveryId, EndpointId, Attempt, AttemptedAt.ToUtcOffset(), Succeeded, StatusCode, LatencyMs, ResponseExcerpt, Error);
    }
}
