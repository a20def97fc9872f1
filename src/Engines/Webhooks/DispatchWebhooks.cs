using System.Collections.Concurrent;
using MediatR;
using Microsoft.AspNetCore.DataProtection;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Models;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Delivers one batch of due webhook deliveries: leases up to Limit, sends them concurrently (signed, through the SSRF guard), records every attempt
/// in the delivery log in one transaction, and disables the endpoints that have failed for Webhooks:DisableAfterDays (email to the admins and an audit entry
/// in the same transaction as the disabling).</summary>
/// <remarks>One round, start to end: the dispatch job runs <see cref="WebhookDispatcher"/>'s pipeline instead (ADR 0540), from the same claim, sender and
/// finish; this command is for a caller that wants one round now and its counts (tests, a host without the job).</remarks>
public sealed record DispatchWebhooks(int Limit) : IRequest<WebhookDispatchResult>;

/// <summary>Counts what one round did: deliveries leased, succeeded, due again, failed for good, and endpoints disabled.</summary>
public sealed record WebhookDispatchResult(int Claimed, int Succeeded, int Retried, int Failed, int Disabled);

internal sealed class DispatchWebhooksHandler(IDbSessionFactory sessions, IWebhookDeliveryDriver deliveries, WebhookSender sender, WebhooksOptions options, IClock clock)
    : IRequestHandler<DispatchWebhooks, WebhookDispatchResult>
{
    /// <summary>Gives how long a leased delivery stays invisible to other dispatchers: longer than an attempt can last (its timeout) with a margin for the
    /// round's bookkeeping, so a delivery is never in flight twice; a crashed dispatcher's deliveries come due again after it.</summary>
    public static int LeaseSeconds(WebhooksOptions options) => options.TimeoutSeconds * 2 + 10;

    /// <summary>Gives when to try again after the given attempt failed (see <see cref="WebhookSender.NextAttemptAt(IReadOnlyList{TimeSpan}, int, DateTimeOffset, double)"/>).</summary>
    internal static DateTimeOffset? NextAttemptAt(IReadOnlyList<TimeSpan> delays, int attempt, DateTimeOffset now, double random) =>
        WebhookSender.NextAttemptAt(delays, attempt, now, random);

    public async Task<WebhookDispatchResult> Handle(DispatchWebhooks request, CancellationToken cancellationToken)
    {
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

        var results = await Task.WhenAll(leased.Select(d => sender.AttemptAsync(d, cancellationToken)));
        // Not cancelled: the attempts happened, and the log should say so even when the host is stopping.
        var disabled = await sender.FinishAsync(results, CancellationToken.None);

        int succeeded = 0, retried = 0, failed = 0;
        foreach (var (result, delivery) in results.Zip(leased))
        {
            if (result.Succeeded)
            {
                succeeded++;
            }
            else if (result.NextAttemptAt is null || delivery.Requeued)
            {
                failed++;
            }
            else
            {
                retried++;
            }
        }
        return new WebhookDispatchResult(leased.Count, succeeded, retried, failed, disabled);
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
