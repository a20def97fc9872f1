using Platform.Drivers.Sessions;

namespace Platform.Drivers.Health;

/// <summary>Answers whether the database takes queries.</summary>
public interface IHealthDriver
{
    /// <summary>Runs a trivial query in the session and returns the server's time.</summary>
    Task<DateTimeOffset> PingAsync(IDbSession session, CancellationToken cancellationToken);
}

internal sealed class HealthDriver : IHealthDriver
{
    public async Task<DateTimeOffset> PingAsync(IDbSession session, CancellationToken cancellationToken)
    {
        var now = await session.ExecuteScalarAsync<DateTime>("SELECT now()", null, cancellationToken);
        return Users.UtcTimes.ToUtcOffset(now);
    }
}
