using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Webhooks;

namespace Platform.Api.Webhooks;

/// <summary>Maps the tenant's webhook routes (admin to manage, viewer and up to read): endpoints, their secret's rotation, the delivery log,
/// messages with their attempts, manual retry, recovery since a time, the test message; and the event catalogue for any signed-in caller.</summary>
public sealed class WebhooksApi : IEndpointGroup
{
    private const string EndpointNotFound = ProblemResponses.NotATenantOfYours + " Also when the endpoint is not this tenant's.";
    private const string MessageNotFound = ProblemResponses.NotATenantOfYours + " Also when the message is not this tenant's, or the endpoint named is not one it went to.";
    private const string Manage = "Needs the admin role or higher and the plan feature 'webhooks'; refused while the tenant is suspended. API keys cannot manage webhooks.";
    private const string Read = "Any member (viewer or higher) may read; API keys cannot.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var hooks = routes.MapTenantGroup("/webhooks").WithTags("Webhooks");
        hooks.MapPost("/endpoints", CreateAsync).WithIdempotency().RequireFeature(Features.Webhooks)
            .WithName("createWebhookEndpoint")
            .WithSummary("Create a webhook endpoint; its signing secret is shown this once")
            .WithDescription(Manage + " url: https (http only to localhost or a loopback address where Webhooks:AllowLoopback is on), no user-info, at most 2048 characters; "
                + "a literal IP must be a public address. event_types: catalogue names, or null/left out for every type. rate_limit: deliveries per second (1-10000) or null. "
                + "headers: at most 20 custom request headers (not hop-by-hop, Host, Content-*, proxy-* or webhook-*). secret: optional, whsec_ + base64 of 24-64 bytes.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status429TooManyRequests, "`quota_exceeded`: the tenant has as many endpoints as its webhook_endpoints quota allows; " + ProblemResponses.KeyThrottled);
        hooks.MapGet("/endpoints", ListAsync)
            .WithName("listWebhookEndpoints")
            .WithSummary("List a tenant's webhook endpoints (never their secrets)")
            .WithDescription(Read);
        hooks.MapGet("/endpoints/{endpoint_id}", GetAsync)
            .WithName("getWebhookEndpoint")
            .WithSummary("Get a webhook endpoint (never its secret)")
            .WithDescription(Read)
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapPatch("/endpoints/{endpoint_id}", UpdateAsync).RequireFeature(Features.Webhooks)
            .WithName("updateWebhookEndpoint")
            .WithSummary("Change a webhook endpoint")
            .WithDescription(Manage + " Fields left out keep their value; event_types null means every type, rate_limit null no limit; headers replaces the whole set. "
                + "enabled: true re-enables a disabled endpoint and clears failing_since and disabled_reason.")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapDelete("/endpoints/{endpoint_id}", DeleteAsync)
            .WithName("deleteWebhookEndpoint")
            .WithSummary("Delete a webhook endpoint with its queued deliveries and its log")
            .WithDescription("Needs the admin role or higher (not the plan feature: a tenant whose plan lost webhooks can still remove its endpoints); refused while the tenant is suspended.")
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapPost("/endpoints/{endpoint_id}/secret/rotate", RotateAsync).WithIdempotency().RequireFeature(Features.Webhooks)
            .WithName("rotateWebhookSecret")
            .WithSummary("Give an endpoint a new signing secret, shown this once")
            .WithDescription(Manage + " Until previous_secret_expires_at (Webhooks:SecretRotationGraceHours) deliveries carry a signature with the former secret too. "
                + "A secret is never shown again after this answer.")
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapGet("/endpoints/{endpoint_id}/deliveries", ListDeliveriesAsync)
            .WithName("listWebhookDeliveries")
            .WithSummary("List an endpoint's deliveries, newest first")
            .WithDescription(Read + " status is one of pending, succeeded, failed; event_type a catalogue name.")
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapPost("/endpoints/{endpoint_id}/recover", RecoverAsync).RequireFeature(Features.Webhooks)
            .WithName("recoverWebhookEndpoint")
            .WithSummary("Send again every failed delivery of an endpoint created since a time")
            .WithDescription(Manage + " since (RFC 3339) is required, not in the future and within the log's retention (Webhooks:LogRetentionDays). "
                + "Each delivery is queued due now and gets one more attempt; the answer says how many were queued.")
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapPost("/endpoints/{endpoint_id}/test", TestAsync).WithIdempotency().RequireFeature(Features.Webhooks)
            .WithName("sendWebhookTest")
            .WithSummary("Send a webhook.test message to one endpoint now")
            .WithDescription(Manage + " The message goes to this endpoint whatever it subscribes to, even while it is disabled.")
            .Refuses(StatusCodes.Status404NotFound, EndpointNotFound);
        hooks.MapGet("/messages/{msg_id}", GetMessageAsync)
            .WithName("getWebhookMessage")
            .WithSummary("Get a message with its delivery to each endpoint and every attempt")
            .WithDescription(Read + " msg_id is the webhook-id header's value (msg_ + 32 hex digits).")
            .Refuses(StatusCodes.Status404NotFound, MessageNotFound);
        hooks.MapPost("/messages/{msg_id}/retry", RetryAsync).RequireFeature(Features.Webhooks)
            .WithName("retryWebhookMessage")
            .WithSummary("Send a message again")
            .WithDescription(Manage + " Its finished deliveries (succeeded or failed), to every endpoint or only endpoint_id, are queued due now and get one more attempt; "
                + "deliveries still pending are already queued and stay as they are. The answer says how many were queued.")
            .Refuses(StatusCodes.Status404NotFound, MessageNotFound);

        routes.MapGet("/v1/webhooks/event-types", ListEventTypes).WithTags("Webhooks").RequireAuthorization()
            .WithName("listWebhookEventTypes")
            .WithSummary("List the webhook event types with a JSON Schema of their data and an example")
            .WithDescription("Any signed-in user or API key. Event bodies are {type, timestamp, data}; webhook.test is sent only on request and cannot be subscribed to.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, ProblemResponses.Unauthenticated);
    }

    private static async Task<Created<CreatedWebhookEndpointResponse>> CreateAsync(CreateWebhookEndpointRequest body, [AsParameters] TenantRequest request)
    {
        var created = await request.Send(new CreateWebhookEndpoint(
            request.Caller, request.TenantId, body.Url, body.Description, body.EventTypes, body.Enabled ?? true, body.RateLimit, body.Headers, body.Secret));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/webhooks/endpoints/{created.Endpoint.Id}", CreatedWebhookEndpointResponse.From(created));
    }

    private static async Task<Ok<ListResponse<WebhookEndpointResponse>>> ListAsync([AsParameters] TenantRequest request, string? cursor, int? limit)
    {
        var page = await request.Send(new ListWebhookEndpoints(request.Caller, request.TenantId, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<WebhookEndpointResponse>.From(page, WebhookEndpointResponse.From));
    }

    private static async Task<Ok<WebhookEndpointResponse>> GetAsync(string endpoint_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(WebhookEndpointResponse.From(await request.Send(new GetWebhookEndpoint(request.Caller, request.TenantId, EndpointId(endpoint_id)))));

    private static async Task<Ok<WebhookEndpointResponse>> UpdateAsync(string endpoint_id, UpdateWebhookEndpointRequest body, [AsParameters] TenantRequest request)
    {
        var id = EndpointId(endpoint_id);
        var (setEventTypes, eventTypes) = ReadEventTypes(body.EventTypes);
        var (setRateLimit, rateLimit) = ReadRateLimit(body.RateLimit);
        var updated = await request.Send(new UpdateWebhookEndpoint(
            request.Caller, request.TenantId, id, body.Url, body.Description, setEventTypes, eventTypes, body.Enabled, setRateLimit, rateLimit, body.Headers));
        return TypedResults.Ok(WebhookEndpointResponse.From(updated));
    }

    private static async Task<Ok<WebhookEndpointResponse>> DeleteAsync(string endpoint_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(WebhookEndpointResponse.From(await request.Send(new DeleteWebhookEndpoint(request.Caller, request.TenantId, EndpointId(endpoint_id)))));

    private static async Task<Ok<RotatedWebhookSecretResponse>> RotateAsync(string endpoint_id, [AsParameters] TenantRequest request)
    {
        var rotated = await request.Send(new RotateWebhookSecret(request.Caller, request.TenantId, EndpointId(endpoint_id)));
        return TypedResults.Ok(new RotatedWebhookSecretResponse(rotated.Endpoint.Id, rotated.Secret, rotated.Endpoint.PreviousSecretExpiresAt));
    }

    private static async Task<Ok<ListResponse<WebhookDeliveryResponse>>> ListDeliveriesAsync(
        string endpoint_id, [AsParameters] TenantRequest request, string? status, string? event_type, string? cursor, int? limit)
    {
        var id = EndpointId(endpoint_id);
        WebhookDeliveryStatus? parsed = null;
        if (status is not null)
        {
            parsed = WireNames.TryParse<WebhookDeliveryStatus>(status, out var s)
                ? s
                : throw ValidationFailedException.For("status", "The status must be one of pending, succeeded, failed.");
        }
        var page = await request.Send(new ListWebhookDeliveries(request.Caller, request.TenantId, id, parsed, event_type, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<WebhookDeliveryResponse>.From(page, WebhookDeliveryResponse.From));
    }

    private static async Task<Ok<WebhookRequeueResponse>> RecoverAsync(string endpoint_id, [AsParameters] TenantRequest request, string? since)
    {
        var id = EndpointId(endpoint_id);
        var from = ParseTime(since) ?? throw ValidationFailedException.For("since", "since is required: an RFC 3339 time, as 2026-12-01T09:30:00Z.");
        return TypedResults.Ok(new WebhookRequeueResponse(await request.Send(new RecoverWebhookEndpoint(request.Caller, request.TenantId, id, from))));
    }

    private static async Task<Accepted<WebhookTestResponse>> TestAsync(string endpoint_id, [AsParameters] TenantRequest request)
    {
        var eventId = await request.Send(new SendWebhookTest(request.Caller, request.TenantId, EndpointId(endpoint_id)));
        var messageId = WebhookIds.Message(eventId);
        return TypedResults.Accepted($"/v1/tenants/{request.TenantId}/webhooks/messages/{messageId}", new WebhookTestResponse(messageId));
    }

    private static async Task<Ok<WebhookMessageResponse>> GetMessageAsync(string msg_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(WebhookMessageResponse.From(await request.Send(new GetWebhookMessage(request.Caller, request.TenantId, MessageId(msg_id)))));

    private static async Task<Ok<WebhookRequeueResponse>> RetryAsync(string msg_id, [AsParameters] TenantRequest request, string? endpoint_id)
    {
        var eventId = MessageId(msg_id);
        Guid? endpointId = endpoint_id is null
            ? null
            : Guid.TryParse(endpoint_id, out var parsed) ? parsed : throw ValidationFailedException.For("endpoint_id", "endpoint_id must be an endpoint's id (a UUID).");
        return TypedResults.Ok(new WebhookRequeueResponse(await request.Send(new RetryWebhookMessage(request.Caller, request.TenantId, eventId, endpointId))));
    }

    private static Ok<ListResponse<WebhookEventTypeResponse>> ListEventTypes() =>
        TypedResults.Ok(new ListResponse<WebhookEventTypeResponse>(
            WebhookEventCatalogue.All.Select(t => new WebhookEventTypeResponse(
                t.Name, t.Description, t.Subscribable, JsonSerializer.SerializeToElement(t.Schema), JsonSerializer.SerializeToElement(t.Example))).ToList(),
            null));

    private static Guid EndpointId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("webhook endpoint");

    private static Guid MessageId(string raw) => WebhookIds.ParseMessage(raw) ?? throw new NotFoundException("webhook message");

    private static DateTimeOffset? ParseTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            && text.Contains('T', StringComparison.OrdinalIgnoreCase)
            ? time
            : throw ValidationFailedException.For("since", "since must be an RFC 3339 time, as 2026-12-01T09:30:00Z.");
    }

    /// <summary>Reads PATCH's event_types: left out keeps them, null subscribes to every type, an array of strings names them.</summary>
    private static (bool Set, IReadOnlyList<string>? Names) ReadEventTypes(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return (false, null);
            case JsonValueKind.Null:
                return (true, null);
            case JsonValueKind.Array when value.GetArrayLength() <= 100 && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                return (true, value.EnumerateArray().Select(e => e.GetString()!).ToList());
            default:
                throw ValidationFailedException.For("event_types", "event_types must be an array of at most 100 event type names, or null for every type.");
        }
    }

    /// <summary>Reads PATCH's rate_limit: left out keeps it, null removes it, a whole number sets it.</summary>
    private static (bool Set, int? Value) ReadRateLimit(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined => (false, null),
        JsonValueKind.Null => (true, null),
        JsonValueKind.Number when value.TryGetInt32(out var n) => (true, n),
        _ => throw ValidationFailedException.For("rate_limit", "rate_limit must be a whole number of deliveries per second (1-10000), or null for none."),
    };
}
