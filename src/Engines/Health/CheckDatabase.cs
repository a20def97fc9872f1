using MediatR;
using Platform.Drivers.Health;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Health;

/// <summary>Asks the database for its time; succeeds only when it takes queries.</summary>
public sealed record CheckDatabase : IRequest<DateTimeOffset>;

internal sealed class CheckDatabaseHandler(IDbSessionFactory sessions, IHealthDriver health) : IRequestHandler<CheckDatabase, DateTimeOffset>
{
    public async Task<DateTimeOffset> Handle(CheckDatabase query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await health.PingAsync(session, cancellationToken);
    }
}
