using MediatR;
using Platform.Drivers.Idempotency;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Idempotency;

namespace Platform.Engines.Idempotency;

/// <summary>Claims an Idempotency-Key for one request (in a tenant, or with no tenant for the signed-in user) and commits at once, or says why the request must not run: its stored response, another body, or a request still in flight.</summary>
/// <remarks>The fingerprint is the SHA-256 of the request's method, route and canonical body (32 bytes).</remarks>
public sealed record ClaimIdempotencyKey(Caller Caller, Guid? TenantId, string Key, byte[] Fingerprint) : IRequest<IdempotencyClaim>, ICallerCommand;

/// <summary>Says what a request with an Idempotency-Key does: run (it holds the claim), replay a stored response, wait (in flight) or stop (the key was used with another request, or its first request took effect and its response was lost).</summary>
public enum IdempotencyClaimOutcome
{
    Claimed,
    Replay,
    InFlight,
    Reused,
    OutcomeLost,
}

/// <summary>Is the answer to a claim: the outcome, the claim id to complete or release (Claimed), the response to replay (Replay) and, in flight, how long to wait before a retry.</summary>
public sealed record IdempotencyClaim(IdempotencyClaimOutcome Outcome, Guid ClaimId, IdempotentResponse? Response, TimeSpan RetryAfter);

internal sealed class ClaimIdempotencyKeyHandler(IdempotencyRecords records, IIdempotencyDriver driver, IdempotencyOptions options, IClock clock)
    : IRequestHandler<ClaimIdempotencyKey, IdempotencyClaim>
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    public async Task<IdempotencyClaim> Handle(ClaimIdempotencyKey command, CancellationToken cancellationToken)
    {
        if (!IdempotencyKeys.IsValid(command.Key))
        {
            throw ValidationFailedException.For(IdempotencyKeys.Header, "The Idempotency-Key header must be 1 to 255 printable ASCII characters.");
        }
        if (command.Fingerprint.Length != 32)
        {
            throw new ArgumentException("The fingerprint must be a SHA-256 hash (32 bytes).", nameof(command));
        }
        var scope = IdempotencyRecords.ScopeOf(command.Caller, command.TenantId);
        // A record seen held and then gone (its claim released in between) is claimed again; three attempts are plenty.
        for (var attempt = 1; ; attempt++)
        {
            await using var session = await records.OpenForClaimAsync(command.Caller, command.TenantId, cancellationToken);
            var now = clock.UtcNow;
            var claimId = Guid.CreateVersion7();
            var claimed = await driver.TryClaimAsync(
                session, scope, command.Key, command.Fingerprint, claimId, now, now + options.Lease, now + options.Retention, cancellationToken);
            if (claimed is not null)
            {
                await session.CommitAsync(cancellationToken);
                return new IdempotencyClaim(IdempotencyClaimOutcome.Claimed, claimId, null, TimeSpan.Zero);
            }
            var held = await driver.FetchAsync(session, scope, command.Key, cancellationToken);
            if (held is null)
            {
                if (attempt < 3)
                {
                    continue;
                }
                return new IdempotencyClaim(IdempotencyClaimOutcome.InFlight, Guid.Empty, null, RetryAfter);
            }
            if (!held.Fingerprint.AsSpan().SequenceEqual(command.Fingerprint))
            {
                return new IdempotencyClaim(IdempotencyClaimOutcome.Reused, Guid.Empty, null, TimeSpan.Zero);
            }
            if (held.State == IdempotencyState.Completed)
            {
                return new IdempotencyClaim(IdempotencyClaimOutcome.Replay, held.ClaimId, records.ToResponse(held), TimeSpan.Zero);
            }
            // Past its lease with a committed effect: its instance died between the effect and the outcome; running again would repeat it.
            return held.EffectCommittedAt is not null && held.LeaseUntil <= now
                ? new IdempotencyClaim(IdempotencyClaimOutcome.OutcomeLost, Guid.Empty, null, TimeSpan.Zero)
                : new IdempotencyClaim(IdempotencyClaimOutcome.InFlight, Guid.Empty, null, RetryAfter);
        }
    }
}
