using MediatR;
using Platform.Drivers.Idempotency;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Idempotency;

namespace Platform.Engines.Idempotency;

/// <summary>Stores the response of a claimed request for replay, or, with no response, releases the key so that a retry runs again; returns false when the claim no longer held the key.</summary>
public sealed record CompleteIdempotencyKey(Caller Caller, Guid? TenantId, string Key, Guid ClaimId, IdempotentResponse? Response) : IRequest<bool>, ICallerCommand;

internal sealed class CompleteIdempotencyKeyHandler(IdempotencyRecords records, IIdempotencyDriver driver, IClock clock)
    : IRequestHandler<CompleteIdempotencyKey, bool>
{
    public async Task<bool> Handle(CompleteIdempotencyKey command, CancellationToken cancellationToken)
    {
        var scope = IdempotencyRecords.ScopeOf(command.Caller, command.TenantId);
        await using var session = await records.OpenForOutcomeAsync(scope, cancellationToken);
        var done = command.Response is { } response
            ? await driver.CompleteAsync(session, scope, command.Key, command.ClaimId, response.StatusCode,
                IdempotencyRecords.HeadersJson(response.Headers), records.Protect(response.Body), clock.UtcNow, cancellationToken)
            : await driver.ReleaseAsync(session, scope, command.Key, command.ClaimId, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return done;
    }
}
