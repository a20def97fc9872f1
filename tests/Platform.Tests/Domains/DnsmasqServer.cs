using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Platform.Tests.Domains;

/// <summary>Runs Debian's dnsmasq as a child process on a high loopback port, answering the TXT records it is given and NXDOMAIN for other names
/// under .test; records change by restarting it on the same port.</summary>
public sealed class DnsmasqServer : IAsyncDisposable
{
    private Process? process;

    private DnsmasqServer(int port) => Port = port;

    /// <summary>Gets the UDP and TCP port it listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Gets the value of Domains:NameServers that points at it.</summary>
    public string NameServers => $"127.0.0.1:{Port}";

    /// <summary>Starts dnsmasq serving the given TXT records (name, text).</summary>
    public static async Task<DnsmasqServer> StartAsync(params (string Name, string Text)[] records)
    {
        var server = new DnsmasqServer(FreePort());
        await server.RunAsync(records);
        return server;
    }

    /// <summary>Replaces the records it serves (stops and starts it again on the same port).</summary>
    public async Task ServeAsync(params (string Name, string Text)[] records)
    {
        Stop();
        await RunAsync(records);
    }

    private async Task RunAsync((string Name, string Text)[] records)
    {
        var binary = File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq";
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
                     "--listen-address=127.0.0.1", $"--port={Port}", "--pid-file=", "--local=/test/", "--cache-size=0",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, text) in records)
        {
            start.ArgumentList.Add($"--txt-record={name},{text}");
        }
        process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            Assert.That(process.HasExited, Is.False, $"dnsmasq exited with {(process.HasExited ? process.ExitCode : 0)}; is Debian's dnsmasq-base installed?");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private void Stop()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit(5000);
        }
        process?.Dispose();
        process = null;
    }

    private static int FreePort()
    {
        // A port free for both UDP and TCP on loopback.
        for (var attempt = 0; ; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            tcp.Stop();
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
