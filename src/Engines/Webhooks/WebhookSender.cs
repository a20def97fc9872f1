using System.Text.Json;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Audit;
using Platform.Engines.Email;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Makes one attempt of a leased delivery (signed, through the SSRF guard) and records a batch of outcomes, disabling the endpoints that have failed
/// for Webhooks:DisableAfterDays; shared by the dispatcher pipeline (<see cref="WebhookDispatcher"/>) and the one-round command (<see cref="DispatchWebhooks"/>).</summary>
internal sealed class WebhookSender(
    IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, IWebhookHttpDriver http, WebhookSecretBox secrets, WebhooksOptions options,
    EmailOutbox emails, EmailOptions emailOptions, AuditTrail audit, IClock clock, ILogger<WebhookSender> logger)
{
    /// <summary>Attempts the delivery once; never throws for the delivery's own faults (they are a failed attempt), only when cancelled.</summary>
    public async Task<WebhookAttemptResult> AttemptAsync(LeasedWebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var attemptedAt = clock.UtcNow;
        WebhookResponse response;
        try
        {
            var request = BuildRequest(delivery, attemptedAt);
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Nothing usable was sent: the stored endpoint or secret cannot be used (a lost key ring, a corrupt row, a scheme the client refuses).
            // It is a failed attempt of this delivery, never a failed round (which would hold the whole batch until its lease ends).
            response = new WebhookResponse(false, null, 0, null, $"not sent: {e.GetType().Name}: {e.Message}");
        }
        var next = response.Succeeded ? null : NextAttemptAt(delivery.Attempt, clock.UtcNow);
        if (!response.Succeeded)
        {
            logger.LogInformation("Webhook delivery {DeliveryId} attempt {Attempt} failed ({Error}); next at {NextAttemptAt:O}",
                delivery.Id, delivery.Attempt, response.Error, next);
        }
        return new WebhookAttemptResult(delivery.Id, delivery.Attempt, response.Succeeded, response.StatusCode, response.LatencyMs, response.Excerpt,
            response.Error, attemptedAt, next);
    }

    /// <summary>Records the outcomes in one statement and commits, then disables each endpoint that qualifies; returns how many were disabled. Throws only
    /// when the outcomes were not recorded (or, rarely, when the commit's answer was lost).</summary>
    public async Task<int> FinishAsync(IReadOnlyList<WebhookAttemptResult> results, CancellationToken cancellationToken)
    {
        if (results.Count == 0)
        {
            return 0;
        }
        IReadOnlyList<FailingWebhookEndpoint> failing;
        var disableBefore = clock.UtcNow - TimeSpan.FromDays(options.DisableAfterDays);
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            failing = await deliveries.FinishAsync(session, results, disableBefore, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        var disabled = 0;
        foreach (var endpoint in failing)
        {
            try
            {
                if (await DisableAsync(endpoint, disableBefore, cancellationToken))
                {
                    disabled++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The outcomes are committed; the endpoint is returned again by the next failed attempt's finish.
                logger.LogWarning(e, "Disabling webhook endpoint {EndpointId} of tenant {TenantId} failed", endpoint.EndpointId, endpoint.TenantId);
            }
        }
        return disabled;
    }

    /// <summary>Builds the request: the stored body as is, the endpoint's headers, and the Standard Webhooks headers signed with the current secret
    /// (and the former one during a rotation's grace, second).</summary>
    private WebhookRequest BuildRequest(LeasedWebhookDelivery delivery, DateTimeOffset attemptedAt)
    {
        var messageId = WebhookIds.Message(delivery.EventId);
        var timestamp = attemptedAt.ToUnixTimeSeconds();
        List<string> keys = [secrets.Open(delivery.ProtectedSecret)];
        if (delivery.ProtectedPreviousSecret is { } previous)
        {
            keys.Add(secrets.Open(previous));
        }
        var headers = new List<KeyValuePair<string, string>>();
        using (var document = JsonDocument.Parse(delivery.Headers))
        {
            foreach (var header in document.RootElement.EnumerateObject())
            {
                if (header.Value.ValueKind == JsonValueKind.String && !Reserved.Contains(header.Name))
                {
                    headers.Add(new(header.Name, header.Value.GetString()!));
                }
            }
        }
        headers.Add(new("webhook-id", messageId));
        headers.Add(new("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.Add(new("webhook-signature", WebhookSignature.Header(keys, messageId, timestamp, delivery.Payload)));
        return new WebhookRequest(new Uri(delivery.Url, UriKind.Absolute), delivery.Payload, headers);
    }

    /// <summary>Are the headers an endpoint's own may never replace (ours, and those the client sets).</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "user-agent", "host", "transfer-encoding", "connection",
    };

    /// <summary>Gives when to try again after the given attempt failed: the schedule's next delay plus up to 10 % jitter, or null when it is used up.</summary>
    private DateTimeOffset? NextAttemptAt(int attempt, DateTimeOffset now) => NextAttemptAt(options.RetryDelays, attempt, now, Random.Shared.NextDouble());

    internal static DateTimeOffset? NextAttemptAt(IReadOnlyList<TimeSpan> delays, int attempt, DateTimeOffset now, double random)
    {
        if (attempt >= delays.Count)
        {
            return null;
        }
        var delay = delays[Math.Max(attempt, 0)];
        return now + delay + TimeSpan.FromTicks((long)(delay.Ticks * 0.1 * random));
    }

    private async Task<bool> DisableAsync(FailingWebhookEndpoint endpoint, DateTimeOffset disableBefore, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var reason = $"Disabled automatically: every attempt failed since {endpoint.FailingSince.UtcDateTime:yyyy-MM-dd HH:mm} UTC " +
                     $"(more than {options.DisableAfterDays} days).";
        await using var session = await sessions.OpenAsync(endpoint.TenantId, null, cancellationToken);
        var url = await deliveries.DisableFailingAsync(session, endpoint.TenantId, endpoint.EndpointId, disableBefore, reason, now, cancellationToken);
        if (url is null)
        {
            return false;
        }
        var (tenantName, recipients) = await deliveries.AdminEmailsAsync(session, endpoint.TenantId, cancellationToken);
        var link = $"{emailOptions.LinkBaseUrl.TrimEnd('/')}/v1/tenants/{endpoint.TenantId}/webhooks/endpoints/{endpoint.EndpointId}";
        foreach (var to in recipients)
        {
            await emails.EnqueueAsync(session, endpoint.TenantId, EmailTemplates.WebhookEndpointDisabledKind,
                EmailTemplates.WebhookEndpointDisabled(to, tenantName, url, endpoint.FailingSince, options.DisableAfterDays, link), cancellationToken);
        }
        await audit.RecordAsync(session, endpoint.TenantId, Caller.System, "webhook.endpoint_disabled", "webhook_endpoint", endpoint.EndpointId,
            new { enabled = true }, new { enabled = false, disabled_reason = reason, failing_since = endpoint.FailingSince, url }, cancellationToken);
        await session.CommitAsync(cancellationToken);
        logger.LogWarning("Webhook endpoint {EndpointId} of tenant {TenantId} disabled: failing since {FailingSince:O}", endpoint.EndpointId, endpoint.TenantId,
            endpoint.FailingSince);
        return true;
    }
}
