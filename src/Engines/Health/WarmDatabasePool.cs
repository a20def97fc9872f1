using MediatR;
using Platform.Drivers.Health;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Health;

/// <summary>Opens up to as many database sessions at once as asked, each answering a query, and closes them: their connections stay in the pool,
/// so that the first burst of requests after a start does not open them (each a SCRAM handshake). A session that cannot be had within Wait (the
/// pool is full: other parts of the service, such as the change listener, hold some of its connections) is left out rather than failing the
/// whole warm-up. Returns how many were opened (ADR 0751, 0780).</summary>
public sealed record WarmDatabasePool(int Connections, TimeSpan Wait) : IRequest<int>;

internal sealed class WarmDatabasePoolHandler(IDbSessionFactory sessions, IHealthDriver health) : IRequestHandler<WarmDatabasePool, int>
{
    public async Task<int> Handle(WarmDatabasePool command, CancellationToken cancellationToken)
    {
        var opened = new List<IDbSession>(command.Connections);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(command.Wait);
        try
        {
            var opening = Enumerable.Range(0, command.Connections).Select(async _ =>
            {
                try
                {
                    var session = await sessions.OpenAsync(null, null, wait.Token);
                    lock (opened)
                    {
                        opened.Add(session);
                    }
                    await health.PingAsync(session, wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Not had in time: the pool is full or the database slow; the connections that were had still count.
                }
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
