using MediatR;
using Platform.Drivers.Health;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Health;

/// <summary>Opens as many database sessions at once as asked, each answering a query, and closes them: their connections stay in the pool,
/// so that the first burst of requests after a start does not open them (each a SCRAM handshake). Returns how many were opened (ADR 0751).</summary>
public sealed record WarmDatabasePool(int Connections) : IRequest<int>;

internal sealed class WarmDatabasePoolHandler(IDbSessionFactory sessions, IHealthDriver health) : IRequestHandler<WarmDatabasePool, int>
{
    public async Task<int> Handle(WarmDatabasePool command, CancellationToken cancellationToken)
    {
        var opened = new List<IDbSession>(command.Connections);
        try
        {
            var opening = Enumerable.Range(0, command.Connections).Select(async _ =>
            {
                var session = await sessions.OpenAsync(null, null, cancellationToken);
                lock (opened)
                {
                    opened.Add(session);
                }
                await health.PingAsync(session, cancellationToken);
            });
            await Task.WhenAll(opening);
            return opened.Count;
        }
        finally
        {
            foreach (var session in opened)
            {
                await session.DisposeAsync();
            }
        }
    }
}
