namespace Platform.Drivers.Sessions;

/// <summary>Sends change notices on a PostgreSQL channel and counts the instances listening to it; the caches kept honest by NOTIFY share it.</summary>
public interface IChangeNoticeDriver
{
    /// <summary>Is the payload prefix of a change: "changed:{id}".</summary>
    const string ChangedPrefix = "changed:";

    /// <summary>Is the payload prefix of an instance's acknowledgement that it dropped the entry: "dropped:{id}".</summary>
    const string DroppedPrefix = "dropped:";

    /// <summary>Announces that the entries of id changed; PostgreSQL delivers it to every listener when the transaction commits (identical notices of one transaction arrive once).</summary>
    Task NotifyChangedAsync(IDbSession session, string channel, Guid id, CancellationToken cancellationToken);

    /// <summary>Announces that this instance dropped the entries of id from its cache.</summary>
    Task NotifyDroppedAsync(IDbSession session, string channel, Guid id, CancellationToken cancellationToken);

    /// <summary>Counts the connections of the service role that listen to the channel (one per instance whose listener is connected).</summary>
    Task<int> CountListenersAsync(IDbSession session, string channel, CancellationToken cancellationToken);
}

internal sealed class ChangeNoticeDriver : IChangeNoticeDriver
{
    public async Task NotifyChangedAsync(IDbSession session, string channel, Guid id, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("SELECT pg_notify(@channel, @payload)", new { channel, payload = IChangeNoticeDriver.ChangedPrefix + id }, cancellationToken);

    public async Task NotifyDroppedAsync(IDbSession session, string channel, Guid id, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("SELECT pg_notify(@channel, @payload)", new { channel, payload = IChangeNoticeDriver.DroppedPrefix + id }, cancellationToken);

    public async Task<int> CountListenersAsync(IDbSession session, string channel, CancellationToken cancellationToken)
    {
        // A listener's connection runs nothing but its LISTEN command (one statement per channel), so that stays its last query.
        return await session.ExecuteScalarAsync<int>(
            """
            SELECT count(*)::int FROM pg_stat_activity
            WHERE datname = current_database() AND usename = current_user AND state = 'idle' AND strpos(query, @listen) > 0
            """,
            new { listen = ChannelListener.ListenCommand([channel]) }, cancellationToken);
    }
}
