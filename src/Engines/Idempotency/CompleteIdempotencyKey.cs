using MediatR;
using Platform.Drivers.Idempotency;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Idempotency;

namespace Platform.Engines.Idempotency;

/// <summary>Stores the response of a claimed request for replay, or, unless kept, releases the key so that a retry runs again (a key whose effect committed is stored whatever the response); returns false when the claim no longer held the key.</summary>
public sealed record CompleteIdempotencyKey(Caller Caller, Guid? TenantId, string Key, Guid ClaimId, IdempotentResponse Response, bool Keep) : IRequest<bool>, ICallerCommand;

/// <summary>Marks, for the rest of the calling flow, the claim whose request is about to run, so that the commit of its effect records it (ADR 0190).</summary>
public static class IdempotentEffects
{
    /// <summary>Holds the claim until the returned scope is disposed.</summary>
    public static IDisposable Hold(Caller caller, Guid? tenantId, string key, Guid claimId)
    {
        IdempotencyEffect.Set(new IdempotencyEffectClaim(IdempotencyRecords.ScopeOf(caller, tenantId), key, claimId));
        return new Release();
    }

    private sealed class Release : IDisposable
    {
        public void Dispose() => IdempotencyEffect.Set(null);
    }
}

internal sealed class CompleteIdempotencyKeyHandler(IdempotencyRecords records, IIdempotencyDriver driver, IClock clock)
    : IRequestHandler<CompleteIdempotencyKey, bool>
{
    public async Task<bool> Handle(CompleteIdempotencyKey command, CancellationToken cancellationToken)
    {
        var scope = IdempotencyRecords.ScopeOf(command.Caller, command.TenantId);
        await using var session = await records.OpenForOutcomeAsync(scope, cancellationToken);
        var response = command.Response;
        var done = (!command.Keep && await driver.ReleaseAsync(session, scope, command.Key, command.ClaimId, cancellationToken))
            || await driver.CompleteAsync(session, scope, command.Key, command.ClaimId, response.StatusCode,
                IdempotencyRecords.HeadersJson(response.Headers), records.Protect(response.Body), clock.UtcNow, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return done;
    }
}
