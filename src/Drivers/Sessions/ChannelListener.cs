using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Drivers.Sessions;

/// <summary>Listens to PostgreSQL NOTIFY channels on a dedicated connection, reconnecting after a failure; the only place a connection outlives a transaction.</summary>
public interface IChannelListener
{
    /// <summary>Listens until cancelled: calls onListening after every (re)connection once LISTEN took effect, onNotification with each channel and payload, and onLost when the connection fails (notifications may then have been missed).</summary>
    Task ListenAsync(IReadOnlyList<string> channels, Action onListening, Action<string, string> onNotification, Action onLost, CancellationToken cancellationToken);
}

/// <summary>Holds the listener's own data source when ConnectionStrings:PlatformListener is set (a LISTEN must not go through a transaction-mode pooler, ADR 0161), else null.</summary>
internal sealed class ListenerDataSource(NpgsqlDataSource? source) : IAsyncDisposable
{
    public NpgsqlDataSource? Source { get; } = source;

    public ValueTask DisposeAsync() => Source?.DisposeAsync() ?? ValueTask.CompletedTask;
}

internal sealed class ChannelListener(NpgsqlDataSource serviceDataSource, ListenerDataSource listenerDataSource, ILogger<ChannelListener> logger) : IChannelListener
{
    private readonly NpgsqlDataSource dataSource = listenerDataSource.Source ?? serviceDataSource;

    /// <summary>Is the pause before a reconnection attempt.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Builds the LISTEN command text; pg_stat_activity shows it (inside <see cref="MarkerCommand"/>) as the last query of every listening connection, which lets a sender count the listeners of a channel.</summary>
    public static string ListenCommand(IReadOnlyList<string> channels) =>
        string.Join("; ", channels.Select(c => "LISTEN \"" + c.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));

    /// <summary>Builds the statement run after the LISTENs: a constant whose text holds the whole LISTEN command, which stays the connection's last query.</summary>
    public static string MarkerCommand(IReadOnlyList<string> channels) =>
        "SELECT '" + ListenCommand(channels).Replace("'", "''", StringComparison.Ordinal) + "'";

    public async Task ListenAsync(IReadOnlyList<string> channels, Action onListening, Action<string, string> onNotification, Action onLost, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) => onNotification(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand(ListenCommand(channels), connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }
                // Npgsql sends one statement per LISTEN, so pg_stat_activity would show only the last; this marker names them all.
                await using (var marker = new NpgsqlCommand(MarkerCommand(channels), connection))
                {
                    await marker.ExecuteNonQueryAsync(cancellationToken);
                }
                onListening();
                while (true)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                onLost();
                logger.LogWarning(e, "Listening on {Channels} failed; reconnecting in {Delay}", channels, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                if (connection is not null)
                {
                    await UnlistenAndCloseAsync(connection);
                }
            }
        }
        onLost();
    }

    /// <summary>Stops listening before the connection goes back to the pool, so that it is no longer counted as a listener.</summary>
    private static async Task UnlistenAndCloseAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        catch (NpgsqlException)
        {
            // A broken connection listens no more anyway.
        }
        await connection.DisposeAsync();
    }
}
