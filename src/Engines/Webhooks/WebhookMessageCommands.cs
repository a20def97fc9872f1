using FluentValidation;
using MediatR;
using Platform.Drivers.Webhooks;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Lists an endpoint's deliveries, newest first (viewer and up), optionally by status and event type.</summary>
public sealed record ListWebhookDeliveries(
    Caller Caller, Guid TenantId, Guid EndpointId, WebhookDeliveryStatus? Status, string? EventType, string? Cursor, int Limit)
    : IRequest<Page<WebhookDeliverySnapshot>>, ITenantRead, ICallerCommand;

/// <summary>Reads a message (an event) with its deliveries and every attempt of them (viewer and up).</summary>
public sealed record GetWebhookMessage(Caller Caller, Guid TenantId, Guid EventId) : IRequest<WebhookMessageDetail>, ITenantRead, ICallerCommand;

/// <summary>Sends a message again (admin): its finished deliveries (succeeded or failed), to every endpoint or the one named, are queued due now;
/// deliveries still pending are already queued and stay as they are. Returns how many were queued.</summary>
public sealed record RetryWebhookMessage(Caller Caller, Guid TenantId, Guid EventId, Guid? EndpointId) : IRequest<int>, ITenantWrite, ICallerCommand;

/// <summary>Queues again every failed delivery of an endpoint created since a time (admin; the time not in the future nor older than the log
/// retention). Returns how many were queued.</summary>
public sealed record RecoverWebhookEndpoint(Caller Caller, Guid TenantId, Guid EndpointId, DateTimeOffset Since) : IRequest<int>, ITenantWrite, ICallerCommand;

/// <summary>Emits a webhook.test event to one endpoint now (admin), whatever it subscribes to; returns the event id.</summary>
public sealed record SendWebhookTest(Caller Caller, Guid TenantId, Guid EndpointId) : IRequest<Guid>, ITenantWrite, ICallerCommand;

internal sealed class ListWebhookDeliveriesValidator : AbstractValidator<ListWebhookDeliveries>
{
    public ListWebhookDeliveriesValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.EventType).Must(t => WebhookEventTypes.Find(t) is not null)
            .WithMessage("The event type must be one of GET /v1/webhooks/event-types.").When(c => c.EventType is not null);
    }
}

internal sealed class ListWebhookDeliveriesHandler(TenantGate gate, IWebhookEndpointDriver endpoints)
    : IRequestHandler<ListWebhookDeliveries, Page<WebhookDeliverySnapshot>>
{
    public async Task<Page<WebhookDeliverySnapshot>> Handle(ListWebhookDeliveries query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        _ = await endpoints.FetchEndpointAsync(scope.Session, query.TenantId, query.EndpointId, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
        var status = query.Status is { } s ? WebhookDeliveryStatuses.ToOutbox(s) : null;
        var rows = await endpoints.ListDeliveriesAsync(scope.Session, query.TenantId, query.EndpointId, status, query.EventType, before, query.Limit + 1,
            cancellationToken);
        return Paging.ToPage(rows, query.Limit, d => d.EventId);
    }
}

internal sealed class GetWebhookMessageHandler(TenantGate gate, IWebhookEndpointDriver endpoints) : IRequestHandler<GetWebhookMessage, WebhookMessageDetail>
{
    public async Task<WebhookMessageDetail> Handle(GetWebhookMessage query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await endpoints.FetchMessageAsync(scope.Session, query.TenantId, query.EventId, cancellationToken)
            ?? throw new NotFoundException("webhook message");
    }
}

internal sealed class RetryWebhookMessageHandler(TenantGate gate, IWebhookEndpointDriver endpoints, AuditTrail audit, IClock clock)
    : IRequestHandler<RetryWebhookMessage, int>
{
    public async Task<int> Handle(RetryWebhookMessage command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var message = await endpoints.FetchMessageAsync(scope.Session, command.TenantId, command.EventId, cancellationToken)
            ?? throw new NotFoundException("webhook message");
        if (command.EndpointId is { } endpointId && message.Deliveries.All(d => d.EndpointId != endpointId))
        {
            throw new NotFoundException("webhook endpoint");
        }
        var queued = await endpoints.RequeueEventAsync(scope.Session, command.TenantId, command.EventId, command.EndpointId, clock.UtcNow, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.message_retried", "webhook_message",
            WebhookIds.Message(command.EventId), null, new { command.EndpointId, Queued = queued }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return queued;
    }
}

internal sealed class RecoverWebhookEndpointHandler(TenantGate gate, IWebhookEndpointDriver endpoints, AuditTrail audit, WebhooksOptions options, IClock clock)
    : IRequestHandler<RecoverWebhookEndpoint, int>
{
    public async Task<int> Handle(RecoverWebhookEndpoint command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        if (command.Since > now)
        {
            throw ValidationFailedException.For("since", "since must not be in the future.");
        }
        if (command.Since < now.AddDays(-options.LogRetentionDays))
        {
            throw ValidationFailedException.For("since", $"since must be within the delivery log's retention ({options.LogRetentionDays} days).");
        }
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        _ = await endpoints.FetchEndpointAsync(scope.Session, command.TenantId, command.EndpointId, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
        var queued = await endpoints.RequeueFailedSinceAsync(scope.Session, command.TenantId, command.EndpointId, command.Since, now, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.endpoint_recovered", "webhook_endpoint", command.EndpointId,
            null, new { command.Since, Queued = queued }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return queued;
    }
}

internal sealed class SendWebhookTestHandler(TenantGate gate, WebhookEvents events, IWebhookEventDriver driver) : IRequestHandler<SendWebhookTest, Guid>
{
    public async Task<Guid> Handle(SendWebhookTest command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var created = events.Create(command.TenantId, WebhookEventTypes.WebhookTest, new WebhookTestEventData("This is a test message from Platform."));
        // The emitter builds the body; the driver writes it, so that the event id is known to return (the emitter's EmitToEndpointAsync does not give it).
        var written = await driver.EmitToEndpointAsync(scope.Session, created, command.EndpointId, cancellationToken);
        if (written == 0)
        {
            throw new NotFoundException("webhook endpoint");
        }
        await scope.CommitAsync(cancellationToken);
        return created.Id;
    }
}
