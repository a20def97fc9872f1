using MediatR;
using Platform.Drivers.Sessions;

namespace Platform.Engines.Throttles;

/// <summary>Deletes finished throttle windows of logins, codes, tokens and sign-ups (the retention job sends it); returns how many.</summary>
public sealed record PurgeThrottleWindows : IRequest<int>;

internal sealed class PurgeThrottleWindowsHandler(IDbSessionFactory sessions, AuthThrottle throttle) : IRequestHandler<PurgeThrottleWindows, int>
{
    public async Task<int> Handle(PurgeThrottleWindows request, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var deleted = await throttle.PurgeAsync(session, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return deleted;
    }
}
