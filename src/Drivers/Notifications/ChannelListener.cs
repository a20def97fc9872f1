using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Drivers.Notifications;

/// <summary>Listens to one PostgreSQL NOTIFY channel on a dedicated connection, reconnecting after a failure; the only place a connection outlives a transaction.</summary>
public interface IChannelListener
{
    /// <summary>Listens until cancelled: calls onListening after every (re)connection once LISTEN took effect, onNotification for each payload, and onLost when the connection fails (notifications may then have been missed).</summary>
    Task ListenAsync(string channel, Action onListening, Action<string> onNotification, Action onLost, CancellationToken cancellationToken);
}

internal sealed class ChannelListener(NpgsqlDataSource dataSource, ILogger<ChannelListener> logger) : IChannelListener
{
    /// <summary>Is the pause before a reconnection attempt.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public async Task ListenAsync(string channel, Action onListening, Action<string> onNotification, Action onLost, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) => onNotification(e.Payload);
                await using (var listen = new NpgsqlCommand("LISTEN " + QuoteIdentifier(channel), connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
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
                logger.LogWarning(e, "Listening on {Channel} failed; reconnecting in {Delay}", channel, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        onLost();
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
