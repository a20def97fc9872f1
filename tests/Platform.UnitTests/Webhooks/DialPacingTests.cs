using System.Net;
using System.Net.Sockets;
using Platform.Drivers.Webhooks;

namespace Platform.UnitTests.Webhooks;

/// <summary>Proves the connect step's dial gate (ADR 0790): a dial waits for a turn of the host's gate and gives it back when it ends, and the SSRF
/// guard still refuses before any wait. Dials go to a listener on loopback only.</summary>
public sealed class DialPacingTests
{
    [Test]
    [CancelAfter(10_000)]
    public async Task A_dial_waits_for_a_turn_of_the_gate_and_gives_it_back()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var gate = new SemaphoreSlim(1, 1);
        await gate.WaitAsync();

        var dial = WebhookHttpDriver.ConnectAsync(new NoResolver(), allowLoopback: true, new DnsEndPoint("127.0.0.1", port), CancellationToken.None, gate).AsTask();
        await Task.Delay(300);
        var waitedForTurn = !dial.IsCompleted;
        gate.Release();
        await using var stream = await dial;
        using var accepted = await listener.AcceptTcpClientAsync();

        Assert.Multiple(() =>
        {
            Assert.That(waitedForTurn, Is.True, "the dial did not start while the gate's only turn was taken");
            Assert.That(stream.CanWrite, Is.True);
            Assert.That(gate.CurrentCount, Is.EqualTo(1), "the turn is given back once the connection is made");
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task A_refused_address_is_refused_at_once_even_when_the_gate_is_full()
    {
        using var gate = new SemaphoreSlim(1, 1);
        await gate.WaitAsync();

        var refused = Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttpDriver.ConnectAsync(new NoResolver(), allowLoopback: false, new DnsEndPoint("127.0.0.1", 80), CancellationToken.None, gate));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Message, Is.EqualTo("refused: 127.0.0.1 is loopback"));
            Assert.That(gate.CurrentCount, Is.Zero, "the refusal took no turn and gave none back");
        });
    }

    [Test]
    public void A_failed_dial_gives_its_turn_back()
    {
        // A port nothing listens on: bound and closed again, so the dial is refused by the kernel.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var gate = new SemaphoreSlim(1, 1);

        Assert.ThrowsAsync<SocketException>(async () =>
            await WebhookHttpDriver.ConnectAsync(new NoResolver(), allowLoopback: true, new DnsEndPoint("127.0.0.1", port), CancellationToken.None, gate));

        Assert.That(gate.CurrentCount, Is.EqualTo(1));
    }

    private sealed class NoResolver : IWebhookResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a literal address is never resolved");
    }
}
