using System.Collections.Concurrent;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Audit;
using Platform.Engines.Email;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Delivers one batch of due webhook deliveries: leases up to Limit, sends them concurrently (signed, through the SSRF guard), records every attempt
/// in the delivery log in one transaction, and disables the endpoints that have failed for Webhooks:DisableAfterDays (email to the admins and an audit entry
/// in the same transaction as the disabling). The dispatch job does not use rounds (ADR 0760); this is one round for tests and tools.</summary>
public sealed record DispatchWebhooks(int Limit) : IRequest<WebhookDispatchResult>;

/// <summary>Counts what one round (or one flush) did: deliveries leased, succeeded, due again, failed for good, and endpoints disabled.</summary>
public sealed record WebhookDispatchResult(int Claimed, int Succeeded, int Retried, int Failed, int Disabled);

/// <summary>Leases up to Limit due deliveries (FOR UPDATE SKIP LOCKED, counting the attempt) in one committed transaction: the pipelined dispatcher's
/// claim, asked for only as many as it has free slots (ADR 0760).</summary>
public sealed record ClaimWebhookDeliveries(int Limit) : IRequest<IReadOnlyList<LeasedWebhookDelivery>>;

/// <summary>Sends one leased delivery (signed, through the SSRF guard and the endpoint's in-flight limit) and tells what came of it and when it is due
/// again; writes nothing (the dispatcher records attempts in batches with <see cref="FinishWebhookAttempts"/>).</summary>
public sealed record AttemptWebhookDelivery(LeasedWebhookDelivery Delivery) : IRequest<WebhookAttemptResult>;

/// <summary>Holds one finished attempt as the dispatcher hands it to <see cref="FinishWebhookAttempts"/>: the result and whether the delivery was a
/// manual redelivery (which fails for good instead of being retried).</summary>
public sealed record FinishedWebhookAttempt(WebhookAttemptResult Result, bool Requeued);

/// <summary>Records a batch of finished attempts in the delivery log in one transaction (lost leases are ignored), then disables the endpoints that have
/// failed for Webhooks:DisableAfterDays; Claimed of the result is the number of attempts recorded.</summary>
public sealed record FinishWebhookAttempts(IReadOnlyList<FinishedWebhookAttempt> Attempts) : IRequest<WebhookDispatchResult>;

internal sealed class DispatchWebhooksHandler(
    IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, WebhookAttempter attempter, WebhookFinisher finisher, WebhooksOptions options, IClock clock,
    ILogger<DispatchWebhooksHandler> logger)
    : IRequestHandler<DispatchWebhooks, WebhookDispatchResult>
{
    /// <summary>Gives how long a leased delivery stays invisible to other dispatchers: longer than an attempt can last (its timeout, the wait for an
    /// endpoint's turn included) with a margin for the finish that records it, so a delivery is never in flight twice; a crashed dispatcher's deliveries
    /// come due again after it.</summary>
    public static int LeaseSeconds(WebhooksOptions options) => options.TimeoutSeconds * 2 + 10;

    public async Task<WebhookDispatchResult> Handle(DispatchWebhooks request, CancellationToken cancellationToken)
    {
        var round = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<LeasedWebhookDelivery> leased;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            leased = await deliveries.ClaimDueAsync(session, clock.UtcNow, LeaseSeconds(options), Math.Clamp(request.Limit, 1, 1000), cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        if (leased.Count == 0)
        {
            return new WebhookDispatchResult(0, 0, 0, 0, 0);
        }

        var claimMs = round.Elapsed.TotalMilliseconds;
        var results = await Task.WhenAll(leased.Select(d => attempter.AttemptAsync(d, cancellationToken)));
        var httpMs = round.Elapsed.TotalMilliseconds - claimMs;
        // Not cancelled: the attempts happened, and the log should say so even when the host is stopping.
        var finished = await finisher.FinishAsync(results.Zip(leased, (r, d) => new FinishedWebhookAttempt(r, d.Requeued)).ToList(), CancellationToken.None);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var latencies = results.Select(r => r.LatencyMs).Order().ToArray();
            logger.LogDebug("Webhook round: {Count} deliveries; claim {ClaimMs:F1} ms, requests {HttpMs:F1} ms (each p50 {P50} ms, max {Max} ms), finish {FinishMs:F1} ms",
                leased.Count, claimMs, httpMs, latencies[latencies.Length / 2], latencies[^1], round.Elapsed.TotalMilliseconds - claimMs - httpMs);
        }
        return finished;
    }

    /// <summary>Gives when to try again after the given attempt failed: the schedule's next delay plus up to 10 % jitter, or null when it is used up.</summary>
    internal static DateTimeOffset? NextAttemptAt(IReadOnlyList<TimeSpan> delays, int attempt, DateTimeOffset now, double random) =>
        WebhookAttempter.NextAttemptAt(delays, attempt, now, random);
}

internal sealed class ClaimWebhookDeliveriesHandler(IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, WebhooksOptions options, IClock clock)
    : IRequestHandler<ClaimWebhookDeliveries, IReadOnlyList<LeasedWebhookDelivery>>
{
    public async Task<IReadOnlyList<LeasedWebhookDelivery>> Handle(ClaimWebhookDeliveries request, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var leased = await deliveries.ClaimDueAsync(session, clock.UtcNow, DispatchWebhooksHandler.LeaseSeconds(options), Math.Clamp(request.Limit, 1, 1000),
            cancellationToken);
        await session.CommitAsync(cancellationToken);
        return leased;
    }
}

internal sealed class AttemptWebhookDeliveryHandler(WebhookAttempter attempter) : IRequestHandler<AttemptWebhookDelivery, WebhookAttemptResult>
{
    public Task<WebhookAttemptResult> Handle(AttemptWebhookDelivery request, CancellationToken cancellationToken) =>
        attempter.AttemptAsync(request.Delivery, cancellationToken);
}

internal sealed class FinishWebhookAttemptsHandler(WebhookFinisher finisher) : IRequestHandler<FinishWebhookAttempts, WebhookDispatchResult>
{
    public Task<WebhookDispatchResult> Handle(FinishWebhookAttempts request, CancellationToken cancellationToken) =>
        finisher.FinishAsync(request.Attempts, cancellationToken);
}

/// <summary>Sends one leased delivery and turns what came of it into an attempt result (a singleton: the dispatcher sends one command per delivery).</summary>
internal sealed class WebhookAttempter(IWebhookHttpDriver http, WebhookSecretBox secrets, WebhooksOptions options, IClock clock, ILogger<WebhookAttempter> logger)
{
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
            // It is a failed attempt of this delivery, never a failed dispatcher.
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
        var headers = new List<KeyValuePair<string, string>>(3);
        // Most endpoints have no headers of their own: their "{}" is not parsed for every delivery.
        if (delivery.Headers != "{}")
        {
            using var document = JsonDocument.Parse(delivery.Headers);
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
        return new WebhookRequest(delivery.EndpointId, new Uri(delivery.Url, UriKind.Absolute), delivery.Payload, headers);
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

}

/// <summary>Records finished attempts in the delivery log (one statement for the batch) and disables the endpoints that have failed for
/// Webhooks:DisableAfterDays (email to the admins and an audit entry in the same transaction as the disabling).</summary>
internal sealed class WebhookFinisher(
    IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, WebhooksOptions options, EmailOutbox emails, EmailOptions emailOptions, AuditTrail audit,
    IClock clock, ILogger<WebhookFinisher> logger)
{
    public async Task<WebhookDispatchResult> FinishAsync(IReadOnlyList<FinishedWebhookAttempt> attempts, CancellationToken cancellationToken)
    {
        if (attempts.Count == 0)
        {
            return new WebhookDispatchResult(0, 0, 0, 0, 0);
        }
        IReadOnlyList<FailingWebhookEndpoint> failing;
        var disableBefore = clock.UtcNow - TimeSpan.FromDays(options.DisableAfterDays);
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            failing = await deliveries.FinishAsync(session, attempts.Select(a => a.Result).ToList(), disableBefore, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        var disabled = 0;
        foreach (var endpoint in failing)
        {
            if (await DisableAsync(endpoint, disableBefore, cancellationToken))
            {
                disabled++;
            }
        }
        int succeeded = 0, retried = 0, failed = 0;
        foreach (var attempt in attempts)
        {
            if (attempt.Result.Succeeded)
            {
                succeeded++;
            }
            else if (attempt.Result.NextAttemptAt is null || attempt.Requeued)
            {
                failed++;
            }
            else
            {
                retried++;
            }
        }
        return new WebhookDispatchResult(attempts.Count, succeeded, retried, failed, disabled);
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

/// <summary>Opens protected signing secrets, keeping the opened ones of recent deliveries in memory (bounded) so a busy endpoint costs one unprotect.</summary>
internal sealed class WebhookSecretBox(IDataProtectionProvider dataProtection)
{
    private const int MaxEntries = 10_000;
    private readonly IDataProtector protector = dataProtection.CreateProtector(WebhookSecrets.Purpose);
    private readonly ConcurrentDictionary<string, string> opened = new(StringComparer.Ordinal);

    public string Open(string protectedSecret)
    {
        if (opened.TryGetValue(protectedSecret, out var secret))
        {
            return secret;
        }
        secret = protector.Unprotect(protectedSecret);
        if (opened.Count >= MaxEntries)
        {
            opened.Clear();
        }
        opened[protectedSecret] = secret;
        return secret;
    }
}
