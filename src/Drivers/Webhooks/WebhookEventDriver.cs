using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Models.Webhooks;

namespace Platform.Drivers.Webhooks;

/// <summary>Writes webhook events and their deliveries (outbox rows of kind 'webhook') in the caller's transaction.</summary>
public interface IWebhookEventDriver
{
    /// <summary>Is the channel every committed statement inserting webhook events NOTIFYs (db/0700): new deliveries are due now.</summary>
    const string DueChannel = "platform_webhook_due";

    /// <summary>Inserts the event and one pending delivery, due now, for each enabled endpoint of the tenant subscribed to its type, in one statement;
    /// writes nothing when no endpoint subscribes. Returns the number of deliveries.</summary>
    Task<int> EmitAsync(IDbSession session, NewWebhookEvent webhookEvent, CancellationToken cancellationToken);

    /// <summary>Inserts the event and one pending delivery to the given endpoint only, whatever it subscribes to and even when disabled (the test message).
    /// Returns 0, and writes nothing, when the tenant has no such endpoint.</summary>
    Task<int> EmitToEndpointAsync(IDbSession session, NewWebhookEvent webhookEvent, Guid endpointId, CancellationToken cancellationToken);

    /// <summary>Emits events of several tenants in one statement (emit_webhook_events), for work outside a tenant's session; returns the number of deliveries.</summary>
    Task<int> EmitAcrossTenantsAsync(IDbSession session, IReadOnlyList<NewWebhookEvent> webhookEvents, CancellationToken cancellationToken);
}

internal sealed class WebhookEventDriver : IWebhookEventDriver
{
    public Task<int> EmitAcrossTenantsAsync(IDbSession session, IReadOnlyList<NewWebhookEvent> webhookEvents, CancellationToken cancellationToken) =>
        webhookEvents.Count == 0
            ? Task.FromResult(0)
            : session.ExecuteScalarAsync<int>("SELECT emit_webhook_events(@events::jsonb)", new
            {
                events = JsonSerializer.Serialize(webhookEvents.Select(e => new { tenant_id = e.TenantId, id = e.Id, type = e.Type, payload = e.Payload, now = e.Now })),
            }, cancellationToken);

    public Task<int> EmitAsync(IDbSession session, NewWebhookEvent webhookEvent, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            """
            WITH targets AS (
                SELECT e.id FROM webhook_endpoints e
                WHERE e.tenant_id = @TenantId AND e.enabled AND (e.event_types IS NULL OR @Type = ANY (e.event_types))
            ), ev AS (
                INSERT INTO webhook_events (tenant_id, id, type, payload, created_at)
                SELECT @TenantId, @Id, @Type, @Payload::jsonb, @Now WHERE EXISTS (SELECT 1 FROM targets)
                RETURNING id
            )
            INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at, endpoint_id, event_id)
            SELECT gen_random_uuid(), @TenantId, 'webhook', '{}'::jsonb, 'pending', 0, @Now, @Now, t.id, ev.id
            FROM targets t CROSS JOIN ev
            """, webhookEvent, cancellationToken);

    public Task<int> EmitToEndpointAsync(IDbSession session, NewWebhookEvent webhookEvent, Guid endpointId, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            """
            WITH targets AS (
                SELECT e.id FROM webhook_endpoints e WHERE e.tenant_id = @TenantId AND e.id = @EndpointId
            ), ev AS (
                INSERT INTO webhook_events (tenant_id, id, type, payload, created_at)
                SELECT @TenantId, @Id, @Type, @Payload::jsonb, @Now WHERE EXISTS (SELECT 1 FROM targets)
                RETURNING id
            )
            INSERT INTO outbox_messages (id, tenant_id, kind, payload, status, attempts, next_attempt_at, created_at, endpoint_id, event_id)
            SELECT gen_random_uuid(), @TenantId, 'webhook', '{}'::jsonb, 'pending', 0, @Now, @Now, t.id, ev.id
            FROM targets t CROSS JOIN ev
            """,
            new { webhookEvent.TenantId, webhookEvent.Id, webhookEvent.Type, webhookEvent.Payload, webhookEvent.Now, EndpointId = endpointId }, cancellationToken);
}
