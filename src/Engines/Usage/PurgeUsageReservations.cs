using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Sessions;
using Platform.Drivers.Usage;
using Platform.Engines.Hosting;
using Platform.Models;

namespace Platform.Engines.Usage;

/// <summary>Deletes the quota reservations of every tenant that expired more than Usage:ReservationRetentionHours ago, consumed or not, in batches; returns how many (ADR 0710).</summary>
/// <remarks>Expiry itself needs no job: a hold counts only while its expires_at is in the future. This keeps the table small.</remarks>
public sealed record PurgeUsageReservations : IRequest<long>;

internal sealed class PurgeUsageReservationsHandler(IDbSessionFactory sessions, IReservationDriver reservations, UsageOptions options, IClock clock,
    ILogger<PurgeUsageReservationsHandler> logger) : IRequestHandler<PurgeUsageReservations, long>
{
    private const int Batch = 1000;

    public async Task<long> Handle(PurgeUsageReservations command, CancellationToken cancellationToken)
    {
        var before = clock.UtcNow.AddHours(-options.ReservationRetentionHours);
        long deleted = 0;
        int batch;
        do
        {
            await using var session = await sessions.OpenAsync(null, null, cancellationToken);
            batch = await reservations.PurgeAsync(session, before, Batch, cancellationToken);
            await session.CommitAsync(cancellationToken);
            deleted += batch;
        }
        while (batch > 0);
        logger.LogInformation("Usage: deleted {Rows} expired quota reservations", deleted);
        return deleted;
    }
}

/// <summary>Every Usage:ReservationPurgeIntervalMinutes, deletes old quota reservations; safe with many copies (each batch deletes what it finds).</summary>
internal sealed class UsageReservationPurgeJob(IServiceScopeFactory scopes, UsageOptions options, ILogger<UsageReservationPurgeJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(options.ReservationPurgeIntervalMinutes);

    protected override bool WaitsForFirstTick => true;

    protected override string FailureMessage => "Usage: the reservation purge failed; retrying on the next tick";

    protected override Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken) => mediator.Send(new PurgeUsageReservations(), cancellationToken);
}
