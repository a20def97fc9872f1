using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Idempotency;
using Platform.Drivers.Sessions;
using Platform.Models;

namespace Platform.Engines.Idempotency;

/// <summary>Deletes the Idempotency-Key records past their expiry (Idempotency:RetentionHours after their claim) of every tenant and user, in batches; returns the rows deleted.</summary>
public sealed record PurgeExpiredIdempotencyKeys : IRequest<long>;

internal sealed class PurgeExpiredIdempotencyKeysHandler(IDbSessionFactory sessions, IIdempotencyDriver driver, IClock clock, ILogger<PurgeExpiredIdempotencyKeysHandler> logger)
    : IRequestHandler<PurgeExpiredIdempotencyKeys, long>
{
    private const int Batch = 1000;

    public async Task<long> Handle(PurgeExpiredIdempotencyKeys command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        long deleted = 0;
        int batch;
        do
        {
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            batch = await driver.PurgeExpiredAsync(session, now, Batch, cancellationToken);
            await session.CommitAsync(cancellationToken);
            deleted += batch;
        }
        while (batch > 0);
        logger.LogInformation("Retention: deleted {Rows} expired idempotency keys", deleted);
        return deleted;
    }
}
