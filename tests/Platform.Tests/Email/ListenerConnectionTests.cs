using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Sessions;

namespace Platform.Tests.Email;

/// <summary>Proves that the LISTEN connection uses ConnectionStrings:PlatformListener when it is set (ADR 0161) and still receives notifications.</summary>
public sealed class ListenerConnectionTests
{
    [Test]
    public async Task The_listener_listens_on_its_own_connection_string_and_receives_notifications()
    {
        var listenerCs = new NpgsqlConnectionStringBuilder(DatabaseFixture.AppConnectionString) { ApplicationName = "platform-listener-test" }.ConnectionString;
        await using var provider = TestEngines.Build(new() { ["ConnectionStrings:PlatformListener"] = listenerCs });
        var listener = provider.GetRequiredService<IChannelListener>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var listen = listener.ListenAsync(["perf_listener_test"], () => listening.TrySetResult(),
            (_, payload) => received.TrySetResult(payload), () => { }, stop.Token);

        await listening.Task.WaitAsync(TimeSpan.FromSeconds(20));
        long applications;
        // As the service role: pg_stat_activity shows the query text of the role's own connections (the listener's last is its marker naming the LISTENs).
        await using (var app = new NpgsqlConnection(DatabaseFixture.AppConnectionString))
        {
            await app.OpenAsync();
            await using var count = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'platform-listener-test' AND strpos(query, 'LISTEN \"perf_listener_test\"') > 0", app);
            applications = (long)(await count.ExecuteScalarAsync())!;
        }
        await using (var notify = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString))
        {
            await notify.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_notify('perf_listener_test', 'hello')", notify);
            await command.ExecuteNonQueryAsync();
        }
        var payload = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        try
        {
            await listen;
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Multiple(() =>
        {
            Assert.That(applications, Is.EqualTo(1));
            Assert.That(payload, Is.EqualTo("hello"));
        });
    }
}
