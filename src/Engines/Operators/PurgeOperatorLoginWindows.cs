using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Models;

namespace Platform.Engines.Operators;

/// <summary>Deletes per-IP operator login windows older than an hour (the retention job sends it); returns how many.</summary>
public sealed record PurgeOperatorLoginWindows : IRequest<int>;

internal sealed class PurgeOperatorLoginWindowsHandler(IDbSessionFactory sessions, IOperatorDriver operators, IClock clock)
    : IRequestHandler<PurgeOperatorLoginWindows, int>
{
    public async Task<int> Handle(PurgeOperatorLoginWindows request, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var deleted = await operators.DeleteLoginWindowsBeforeAsync(session, clock.UtcNow.AddHours(-1), cancellationToken);
        await session.CommitAsync(cancellationToken);
        return deleted;
    }
}
