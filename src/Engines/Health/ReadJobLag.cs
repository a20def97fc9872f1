using MediatR;
using Platform.Drivers.Health;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Health;

namespace Platform.Engines.Health;

/// <summary>Reads the background jobs' backlog across tenants (counts only), for the job lag gauges of /metrics.</summary>
public sealed record ReadJobLag : IRequest<JobLagSnapshot>;

internal sealed class ReadJobLagHandler(IDbSessionFactory sessions, IHealthDriver health, IClock clock) : IRequestHandler<ReadJobLag, JobLagSnapshot>
{
    public async Task<JobLagSnapshot> Handle(ReadJobLag query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await health.ReadJobLagAsync(session, clock.UtcNow, cancellationToken);
    }
}
