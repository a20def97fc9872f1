using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Email;

namespace Platform.Engines.Email;

/// <summary>Sends one batch of due emails from the outbox: leases them, sends each, and marks it sent, due again after a backoff, or failed after the last attempt or when its secrets expired; sent and failed messages lose their secrets.</summary>
public sealed record DispatchEmails : IRequest<DispatchResult>;

/// <summary>Counts what one dispatch round did: messages leased, sent, rescheduled and given up.</summary>
public sealed record DispatchResult(int Claimed, int Sent, int Retried, int Failed);

internal sealed class DispatchEmailsHandler(
    IDbSessionFactory sessions, IOutboxDriver outbox, EmailOutbox emails, IMailDriver mail, EmailOptions settings, IClock clock, ILogger<DispatchEmailsHandler> logger,
    IEnumerable<IEmailAttachmentSource> attachmentSources)
    : IRequestHandler<DispatchEmails, DispatchResult>
{
    /// <summary>Is how long a leased message stays invisible to other dispatchers, in seconds; a crashed dispatcher's messages come due again after it.</summary>
    public const int LeaseSeconds = 300;

    public async Task<DispatchResult> Handle(DispatchEmails request, CancellationToken cancellationToken)
    {
        IReadOnlyList<Models.Email.LeasedOutboxMessage> leased;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            leased = await outbox.ClaimDueAsync(session, "email.", clock.UtcNow, LeaseSeconds, settings.BatchSize, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }

        int sent = 0, retried = 0, failed = 0;
        foreach (var message in leased)
        {
            string? error = null;
            var giveUp = false;
            try
            {
                var email = emails.Open(message.Kind, message.Payload, clock.UtcNow);
                var attachments = new List<EmailAttachment>();
                foreach (var reference in email.Attachments)
                {
                    var source = attachmentSources.FirstOrDefault(s => s.Kind == reference.Kind)
                        ?? throw new InvalidOperationException($"No attachment source renders '{reference.Kind}'.");
                    attachments.Add(await source.RenderAsync(reference, cancellationToken));
                }
                await mail.SendAsync(email, message.Id, cancellationToken, attachments);
            }
            catch (OutboxSecretExpiredException e)
            {
                // The link inside is dead: sending later would not help.
                error = e.Message;
                giveUp = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                error = $"{e.GetType().Name}: {e.Message}";
            }

            var now = clock.UtcNow;
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            if (error is null)
            {
                await outbox.MarkSentAsync(session, message.Id, message.Attempt, now, cancellationToken);
                sent++;
            }
            else
            {
                var next = giveUp || message.Attempt >= settings.MaxAttempts ? (DateTimeOffset?)null : now + Backoff(message.Attempt, settings);
                await outbox.MarkAttemptFailedAsync(session, message.Id, message.Attempt, error, next, now, cancellationToken);
                if (next is null)
                {
                    failed++;
                    logger.LogError("Email {MessageId} ({Kind}) failed for good after {Attempts} attempts: {Error}", message.Id, message.Kind, message.Attempt, error);
                }
                else
                {
                    retried++;
                    logger.LogWarning("Email {MessageId} ({Kind}) attempt {Attempt} failed, next at {NextAttemptAt:O}: {Error}", message.Id, message.Kind, message.Attempt, next, error);
                }
            }
            await session.CommitAsync(cancellationToken);
        }
        return new DispatchResult(leased.Count, sent, retried, failed);
    }

    /// <summary>Gives the delay after a failed attempt: the base delay doubled per earlier attempt, capped.</summary>
    public static TimeSpan Backoff(int attempt, EmailOptions settings)
    {
        var seconds = settings.RetryBaseSeconds * Math.Pow(2, Math.Max(0, attempt - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, settings.MaxRetryDelaySeconds));
    }
}
