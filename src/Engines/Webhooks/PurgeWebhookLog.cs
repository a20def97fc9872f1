using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Purges the delivery log older than Webhooks:LogRetentionDays: attempts, finished deliveries, and events no delivery is pending for; sent by the
/// retention job, in batches (one transaction each) until a batch comes back short.</summary>
public sealed record PurgeWebhookLog(int BatchSize = 5_000) : IRequest<WebhookPurgeResult>;

internal sealed class PurgeWebhookLogHandler(IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, WebhooksOptions options, IClock clock)
    : IRequestHandler<PurgeWebhookLog, WebhookPurgeResult>
{
    public async Task<WebhookPurgeResult> Handle(PurgeWebhookLog request, CancellationToken cancellationToken)
    {
        var before = clock.UtcNow - TimeSpan.FromDays(options.LogRetentionDays);
        int attempts = 0, deliveriesPurged = 0, events = 0;
        WebhookPurgeResult batch;
        do
        {
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            batch = await deliveries.PurgeAsync(session, before, request.BatchSize, cancellationToken);
            await session.CommitAsync(cancellationToken);
            attempts += batch.Attempts;
            deliveriesPurged += batch.Deliveries;
            events += batch.Events;
        }
        while ((batch.Attempts >= request.BatchSize || batch.Deliveries >= request.BatchSize || batch.Events >= request.BatchSize)
               && !cancellationToken.IsCancellationRequested);
        return new WebhookPurgeResult(attempts, deliveriesPurged, events);
    }
}
