using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Platform.Tests.Hosting;

/// <summary>Runs `./platform run` itself with its own embedded PostgreSQL in a temporary data folder: when another process holds the pinned
/// port it picks a free one, saves it and says so; SIGTERM stops the service, then PostgreSQL, and the script exits 0 (ADR 0582).</summary>
public sealed class PlatformRunScriptTests
{
    [Test]
    [CancelAfter(240_000)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Run_moves_off_a_taken_port_and_exits_zero_on_sigterm_after_stopping_the_service_and_postgresql(CancellationToken cancellationToken)
    {
        var data = Directory.CreateTempSubdirectory("platform-run-");
        File.SetUnixFileMode(data.FullName, (UnixFileMode)0b111_101_101);
        // Another process holds the port the data folder pinned at its first start.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var pinned = ((IPEndPoint)squatter.LocalEndpoint).Port;
        File.WriteAllLines(Path.Combine(data.FullName, "secrets.env"),
        [
            $"PG_PORT={pinned}", "OWNER_PASSWORD=owner-pw-run-test", "APP_PASSWORD=app-pw-run-test",
            "SIGNING_KEY=" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
            "DEMO_PASSWORD=demo-run-test",
        ]);
        var start = new ProcessStartInfo(Path.Combine(ServiceProcess.RepositoryRoot, "platform"), ["run"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment.Remove("ConnectionStrings__Platform");
        start.Environment.Remove("ConnectionStrings__PlatformOwner");
        start.Environment["PLATFORM_DATA_DIR"] = data.FullName;
        start.Environment["PLATFORM_NO_BUILD"] = "1";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var script = Process.Start(start)!;
        script.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        script.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string Output() => string.Join('\n', lines);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(180);
            while (!lines.Any(l => l.Contains("Platform is listening on", StringComparison.Ordinal)))
            {
                Assert.That(script.HasExited, Is.False, Output());
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "not serving in time:\n" + Output());
                await Task.Delay(200, cancellationToken);
            }
            var saved = File.ReadAllLines(Path.Combine(data.FullName, "secrets.env")).Single(l => l.StartsWith("PG_PORT=", StringComparison.Ordinal))[8..];

            Assert.That(Kill(script.Id, 15), Is.Zero);
            await script.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            script.WaitForExit();
            var all = lines.ToList();
            var stopped = all.FindIndex(l => l.Contains("the service stopped (status 0)", StringComparison.Ordinal));
            var pgStopped = all.FindIndex(l => l.Contains("stopping PostgreSQL", StringComparison.Ordinal));

            Assert.Multiple(() =>
            {
                Assert.That(script.ExitCode, Is.Zero, Output());
                Assert.That(saved, Is.Not.EqualTo(pinned.ToString(System.Globalization.CultureInfo.InvariantCulture)), "a new port is saved");
                Assert.That(all, Has.Some.Contains($"port {pinned} is taken by another process; PostgreSQL uses port {saved} from now on"), Output());
                Assert.That(all, Has.Some.Contains($"starting PostgreSQL ({data.FullName}/pg, port {saved})"), Output());
                Assert.That(stopped, Is.GreaterThanOrEqualTo(0), Output());
                Assert.That(pgStopped, Is.GreaterThan(stopped), "PostgreSQL stops after the service:\n" + Output());
                Assert.That(File.Exists(Path.Combine(data.FullName, "pg", "postmaster.pid")), Is.False, "PostgreSQL is down");
            });
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }
            StopCluster(Path.Combine(data.FullName, "pg"));
            data.Delete(recursive: true);
        }
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_port_that_is_only_a_connections_own_end_is_taken_for_the_scripts_port_choice()
    {
        // The run above once moved to a port nobody listened on but a client's connection had as its own end (the ephemeral range), and
        // PostgreSQL's bind failed: "Address already in use". The script's check reads the kernel's socket tables (scripts/pg.sh).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var clientEnd = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        int closed;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closed = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await PgShAsync($"pg_port_used {((IPEndPoint)listener.LocalEndpoint).Port} && echo used || echo free"), Is.EqualTo("used"), "a listener");
            Assert.That(await PgShAsync($"pg_port_used {clientEnd} && echo used || echo free"), Is.EqualTo("used"), "a connection's own end");
            Assert.That(await PgShAsync($"pg_port_used {closed} && echo used || echo free"), Is.EqualTo("free"), "a port bound and let go");
            Assert.That(int.Parse(await PgShAsync($"pg_free_port {clientEnd}"), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(clientEnd));
        });
    }

    /// <summary>Runs a line of bash with scripts/pg.sh sourced and returns what it printed, trimmed.</summary>
    private static async Task<string> PgShAsync(string line)
    {
        var start = new ProcessStartInfo("bash", ["-c", $"source scripts/pg.sh; {line}"])
        {
            RedirectStandardOutput = true,
            WorkingDirectory = ServiceProcess.RepositoryRoot,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }

    /// <summary>Stops a cluster the script may have left running when the test failed half-way.</summary>
    private static void StopCluster(string dir)
    {
        if (!File.Exists(Path.Combine(dir, "postmaster.pid")) || Environment.GetEnvironmentVariable("PLATFORM_TEST_PG_BIN") is not { Length: > 0 } bin)
        {
            return;
        }
        var stop = new ProcessStartInfo("runuser", ["-u", "postgres", "--", Path.Combine(bin, "pg_ctl"), "-D", dir, "-m", "immediate", "stop"]);
        using var process = Process.Start(stop)!;
        process.WaitForExit(30_000);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
