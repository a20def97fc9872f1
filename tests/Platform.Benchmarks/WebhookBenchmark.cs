using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines;
using Platform.Engines.Hosting;
using Platform.Engines.Webhooks;
using Platform.Models.Webhooks;

namespace Platform.Benchmarks;

/// <summary>Benchmarks webhook delivery: events emitted by committed transactions (WebhookEvents, as the features emit them) to 10 endpoints on the
/// node receiver (tests/webhooks), delivered by 3 service processes with their jobs on; measures acknowledged deliveries per second and the time from
/// an event's commit to its first attempt, beside the receiver alone under the same HTTP client.</summary>
internal static class WebhookBenchmark
{
    public const string Start = "<!-- webhooks benchmark -->";
    public const string End = "<!-- /webhooks benchmark -->";

    public static async Task<string> RunAsync(BenchEnvironment env, Guid tenantId)
    {
        var inv = CultureInfo.InvariantCulture;
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(env.Require("BENCH_OUT"))))!;
        var processes = env.Int("BENCH_WEBHOOK_PROCESSES", 3);
        var endpoints = env.Int("BENCH_WEBHOOK_ENDPOINTS", 10);
        // 210 events/s x 10 endpoints = 2,100 deliveries/s offered, just above the goal (ADR 0790): an offered rate above capacity makes the
        // queue grow for the whole run, and the commit-to-first-attempt p99 then measures that backlog instead of the pick-up delay.
        var rate = env.Int("BENCH_WEBHOOK_EVENTS_PER_SECOND", 210);
        var burstEvents = env.Int("BENCH_WEBHOOK_BURST_EVENTS", 2000);
        var seconds = env.Int("BENCH_WEBHOOK_SECONDS", 15);

        using var receiver = StartReceiver(root, out var receiverPort);
        using var control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{receiverPort}/") };

        // Baseline: the receiver alone, under the client the dispatcher uses (one SocketsHttpHandler, 64 requests in flight).
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false, MaxConnectionsPerServer = 256 });
        var body = """{"type":"run.completed","timestamp":"2026-12-06T00:00:00Z","data":{"run_id":"0193a5f0-0000-7000-8000-0000000000a1","status":"succeeded"}}""";
        (await control.PostAsJsonAsync("control", new { path = "baseline", record_bodies = false })).EnsureSuccessStatusCode();
        var baseline = await LoadGenerator.RunAsync(64, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), async (c, n) =>
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync($"http://127.0.0.1:{receiverPort}/hooks/baseline", content);
            return response.IsSuccessStatusCode;
        });
        Console.WriteLine($"webhooks baseline: receiver alone {baseline.PerSecond:F0} req/s p99 {baseline.P99Ms:F1} ms");

        // The emitter: the engines on the bench database (the run's key ring protects the secrets the dispatchers open).
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddEngines();
        await using var engines = services.BuildServiceProvider();
        engines.ValidateOptionsNow();
        var protector = engines.GetRequiredService<IDataProtectionProvider>().CreateProtector(WebhookSecrets.Purpose);
        var secret = WebhookSignature.SecretPrefix + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using (var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS")))
        {
            await connection.OpenAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, tx))
            {
                scope.Parameters.AddWithValue("t", tenantId.ToString());
                await scope.ExecuteNonQueryAsync();
            }
            for (var i = 0; i < endpoints; i++)
            {
                (await control.PostAsJsonAsync("control", new { path = $"e{i}", secrets = new[] { secret }, record_bodies = false })).EnsureSuccessStatusCode();
                await using var insert = new NpgsqlCommand(
                    """
                    INSERT INTO webhook_endpoints (tenant_id, id, url, secret, created_at, updated_at)
                    VALUES (@t, gen_random_uuid(), @url, @secret, now(), now())
                    """, connection, tx);
                insert.Parameters.AddWithValue("t", tenantId);
                insert.Parameters.AddWithValue("url", $"http://127.0.0.1:{receiverPort}/hooks/e{i}");
                insert.Parameters.AddWithValue("secret", protector.Protect(secret));
                await insert.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }

        var profileDir = Environment.GetEnvironmentVariable("BENCH_PROFILE_DIR") is { Length: > 0 } dir ? dir : null;
        var dispatchers = Enumerable.Range(0, processes).Select(i => StartDispatcher(root, i, profileDir)).ToList();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(env.Int("BENCH_WEBHOOK_START_SECONDS", 8)));
            var before = await TotalAsync(control);
            var updatesBefore = await OutboxUpdatesAsync(env);
            var sessions = engines.GetRequiredService<IDbSessionFactory>();
            var emitter = engines.GetRequiredService<WebhookEvents>();
            var driver = engines.GetRequiredService<IWebhookEventDriver>();
            var example = WebhookEventTypes.Find(WebhookEventTypes.RunCompleted)!.Example;
            var cpuBefore = CpuSample.Take(dispatchers, receiver);
            var clock = Stopwatch.StartNew();
            // Emit at a steady rate from 8 writers, each event in its own committed transaction.
            await EmitAsync(sessions, driver, emitter, tenantId, example, (long)rate * seconds, rate, clock);
            var events = (long)rate * seconds;
            var expected = events * endpoints;
            var emitSeconds = clock.Elapsed.TotalSeconds;
            long delivered;
            var lastSeen = clock.Elapsed;
            // Wait for the tail, at most 120 s.
            while ((delivered = await TotalAsync(control) - before) < expected && clock.Elapsed.TotalSeconds < emitSeconds + 120)
            {
                await Task.Delay(100);
            }
            var total = clock.Elapsed.TotalSeconds;
            var cpu = CpuSample.Take(dispatchers, receiver) - cpuBefore;
            var (p50, p99, max, http50, http99) = await CommitToFirstAttemptAsync(env, tenantId);
            await Task.Delay(TimeSpan.FromSeconds(1)); // the statistics collector's figures are flushed about once a second
            var updatesAfter = await OutboxUpdatesAsync(env);
            var (updates, hot) = (updatesAfter.Updates - updatesBefore.Updates, updatesAfter.Hot - updatesBefore.Hot);
            var perSecond = delivered / total;
            var load = LoadAverage();

            // Capacity: a burst emitted as fast as 8 writers commit, then drained; deliveries per second from its first commit to its last acknowledgement.
            var burst = "";
            if (burstEvents > 0)
            {
                var burstBefore = await TotalAsync(control);
                var burstClock = Stopwatch.StartNew();
                await EmitAsync(sessions, driver, emitter, tenantId, example, burstEvents, 0, burstClock);
                var burstEmitted = burstClock.Elapsed.TotalSeconds;
                var burstExpected = (long)burstEvents * endpoints;
                long burstDelivered;
                while ((burstDelivered = await TotalAsync(control) - burstBefore) < burstExpected && burstClock.Elapsed.TotalSeconds < 120)
                {
                    await Task.Delay(50);
                }
                var burstRate = burstDelivered / burstClock.Elapsed.TotalSeconds;
                Console.WriteLine($"webhooks capacity: {burstDelivered} of {burstExpected} deliveries of a burst in {burstClock.Elapsed.TotalSeconds:F1} s = {burstRate:F0}/s (emitted in {burstEmitted:F1} s)");
                burst = $"| capacity: a burst of {burstEvents:N0} events ({burstExpected:N0} deliveries) committed as fast as 8 writers can ({burstEmitted:F1} s), first commit to last acknowledgement | "
                    + $"{F(burstRate)}/s ({burstDelivered:N0} of {burstExpected:N0} in {burstClock.Elapsed.TotalSeconds:F1} s) | | | | |";
            }
            string F(double v) => v.ToString("F0", inv);
            Console.WriteLine($"webhooks: {delivered} of {expected} deliveries in {total:F1} s = {perSecond:F0}/s; commit-to-first-attempt p50 {p50:F0} ms p99 {p99:F0} ms max {max:F0} ms; "
                + $"first attempt's request p50 {http50:F0} ms p99 {http99:F0} ms; outbox_messages updates {updates}, of them HOT {hot}; {cpu.Describe(delivered)}");
            return new StringBuilder()
                .AppendLine(Start)
                .AppendLine("## Webhook delivery").AppendLine()
                .AppendLine($"Run on {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", inv)}: {events:N0} `run.completed` events emitted by committed transactions at {rate}/s for {seconds} s "
                    + $"(8 writers; offered {rate * endpoints:N0} deliveries/s) to {endpoints} endpoints of one tenant on the node receiver (tests/webhooks/receiver.js, loopback), delivered by {processes} service processes "
                    + "(`Platform.Api.dll serve` with its jobs, default webhook settings) beside the bench's own service.").AppendLine()
                .AppendLine("| figure | webhooks | baseline | ratio | goal | |")
                .AppendLine("|---|---|---|---|---|---|")
                .AppendLine($"| deliveries acknowledged per second (emission start to last acknowledgement) | {F(perSecond)}/s ({delivered:N0} of {expected:N0} in {total:F1} s) | the receiver alone, same client, 64 in flight: {F(baseline.PerSecond)} req/s | {perSecond / baseline.PerSecond:F2} | >= 2,000/s | {(perSecond >= 2000 ? "met" : "**not met**")} |")
                .AppendLine($"| commit to first attempt | p50 {F(p50)} ms, p99 {F(p99)} ms, max {F(max)} ms | | | p99 < 1 s | {(p99 < 1000 ? "met" : "**not met**")} |")
                .Append(burst.Length > 0 ? burst + "\n" : "")
                .AppendLine()
                .AppendLine($"Where the time went: the first attempt's HTTP request took p50 {F(http50)} ms, p99 {F(http99)} ms (webhook_attempts.latency_ms); "
                    + $"outbox_messages took {updates:N0} row updates during the run, {hot:N0} of them heap-only (HOT, pg_stat_user_tables.n_tup_hot_upd; "
                    + $"a claim's lease should be HOT, a finish that changes the status cannot be, ADR 0610). CPU per acknowledged delivery during the steady run (/proc, user + system): {cpu.Describe(delivered)}. "
                    + $"The machine's load average at the end of the steady run (1, 5, 15 min; 2 cores): {load}; the bench does not control what else runs.")
                .AppendLine()
                .AppendLine(End)
                .ToString();
        }
        finally
        {
            foreach (var dispatcher in dispatchers)
            {
                try
                {
                    dispatcher.Kill(entireProcessTree: true);
                    await dispatcher.WaitForExitAsync();
                }
                catch (InvalidOperationException)
                {
                }
                dispatcher.Dispose();
            }
            receiver.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Emits count events from 8 writers, each in its own committed transaction: at rate events per second on the clock, or as fast as they
    /// commit when rate is 0.</summary>
    private static async Task EmitAsync(IDbSessionFactory sessions, IWebhookEventDriver driver, WebhookEvents emitter, Guid tenantId, object example,
        long count, int rate, Stopwatch clock)
    {
        long emitted = 0;
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            while (true)
            {
                var n = Interlocked.Increment(ref emitted) - 1;
                if (n >= count)
                {
                    return;
                }
                if (rate > 0)
                {
                    var wait = TimeSpan.FromSeconds((double)n / rate) - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }
                }
                await using var session = await sessions.OpenAsync(tenantId, null, CancellationToken.None);
                await driver.EmitAsync(session, emitter.Create(tenantId, WebhookEventTypes.RunCompleted, example), CancellationToken.None);
                await session.CommitAsync(CancellationToken.None);
            }
        })).ToList();
        await Task.WhenAll(writers);
    }

    /// <summary>Holds CPU seconds (user + system, from /proc) of the parties of the webhook run: the dispatcher processes, the receiver, PostgreSQL's
    /// processes, this bench process (the emitting writers and the receiver's client) and the whole machine.</summary>
    private sealed record CpuSample(double Dispatchers, double Receiver, double Postgres, double Bench, double Machine, long ListenOverflows)
    {
        private static readonly double Tick = 100.0; // USER_HZ on Linux

        public static CpuSample Take(IReadOnlyList<Process> dispatchers, Process receiver)
        {
            if (!Directory.Exists("/proc"))
            {
                return new CpuSample(0, 0, 0, 0, 0, 0);
            }
            double postgres = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                var name = Path.GetFileName(dir);
                if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
                {
                    continue;
                }
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres")
                    {
                        postgres += Seconds(int.Parse(name, CultureInfo.InvariantCulture));
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            var machine = 0.0;
            var line = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // cpu user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
            for (var i = 1; i < Math.Min(line.Length, 9); i++)
            {
                if (i != 4 && i != 5)
                {
                    machine += double.Parse(line[i], CultureInfo.InvariantCulture) / Tick;
                }
            }
            return new CpuSample(dispatchers.Sum(d => Seconds(d.Id)), Seconds(receiver.Id), postgres, Seconds(Environment.ProcessId), machine, ListenOverflowCount());
        }

        /// <summary>Reads the kernel's count of connections dropped because a listening socket's accept queue was full (TcpExt ListenOverflows).</summary>
        private static long ListenOverflowCount()
        {
            try
            {
                var lines = File.ReadAllLines("/proc/net/netstat").Where(l => l.StartsWith("TcpExt:", StringComparison.Ordinal)).ToArray();
                var index = Array.IndexOf(lines[0].Split(' '), "ListenOverflows");
                return index < 0 ? 0 : long.Parse(lines[1].Split(' ')[index], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return 0;
            }
        }

        private static double Seconds(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After the command: state (0), ..., utime (11), stime (12).
                return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / Tick;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return 0;
            }
        }

        public static CpuSample operator -(CpuSample a, CpuSample b) =>
            new(a.Dispatchers - b.Dispatchers, a.Receiver - b.Receiver, a.Postgres - b.Postgres, a.Bench - b.Bench, a.Machine - b.Machine,
                a.ListenOverflows - b.ListenOverflows);

        public string Describe(long deliveries)
        {
            if (deliveries <= 0 || Machine <= 0)
            {
                return "not measured";
            }
            string Us(double seconds) => (seconds * 1e6 / deliveries).ToString("F0", CultureInfo.InvariantCulture) + " µs";
            return $"the {Us(Dispatchers)} of the 3 dispatchers, {Us(Postgres)} of PostgreSQL, {Us(Receiver)} of the receiver, {Us(Bench)} of the bench's writers "
                + $"and client; the whole machine {Us(Machine)} ({Machine:F1} CPU-seconds); connections dropped by a full accept queue (TcpExt ListenOverflows, "
                + $"machine-wide): {ListenOverflows}";
        }
    }

    private static async Task<long> TotalAsync(HttpClient control) =>
        (long)JsonNode.Parse(await control.GetStringAsync("stats"))!["total"]!;

    /// <summary>Reads the time from each event's creation (in the transaction that commits it) to its first attempt, per delivery.</summary>
    /// <summary>Gives the machine's load averages from /proc/loadavg, or "unknown" where there is none.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Reads the cumulative row updates of outbox_messages and how many of them were heap-only (HOT).</summary>
    private static async Task<(long Updates, long Hot)> OutboxUpdatesAsync(BenchEnvironment env)
    {
        await using var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS"));
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'outbox_messages'", connection);
        await using var reader = await query.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    private static async Task<(double P50, double P99, double Max, double Http50, double Http99)> CommitToFirstAttemptAsync(BenchEnvironment env, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS"));
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, tx))
        {
            scope.Parameters.AddWithValue("t", tenantId.ToString());
            await scope.ExecuteNonQueryAsync();
        }
        await using var query = new NpgsqlCommand(
            """
            SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 0), coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), 0), coalesce(max(ms), 0),
                   coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY http), 0), coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY http), 0)
            FROM (SELECT extract(epoch FROM a.attempted_at - e.created_at) * 1000 AS ms, a.latency_ms AS http
                  FROM webhook_attempts a JOIN webhook_events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
                  WHERE a.attempt = 1) x
            """, connection, tx);
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetDouble(0), reader.GetDouble(1), Convert.ToDouble(reader.GetValue(2), CultureInfo.InvariantCulture), reader.GetDouble(3), reader.GetDouble(4));
    }

    private static Process StartReceiver(string root, out int port)
    {
        var folder = Path.Combine(root, "tests", "webhooks");
        var process = Process.Start(new ProcessStartInfo("node", ["receiver.js"]) { WorkingDirectory = folder, RedirectStandardOutput = true })!;
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The webhook receiver did not start.");
        port = int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture);
        return process;
    }

    private static Process StartDispatcher(string root, int index, string? profileDir)
    {
        // The service as ./platform run starts it (the ReadyToRun publish, BENCH_API_DLL), not the plain build, which a fresh checkout does not have.
        var dll = Environment.GetEnvironmentVariable("BENCH_API_DLL") is { Length: > 0 } published ? published : Path.Combine(root, "src", "Api", "bin", "Release", "net10.0", "Platform.Api.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "serve"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Platform__RunJobs"] = "true";
        start.Environment["Webhooks__AllowLoopback"] = "true";
        // The bench's own service warms 64 connections (cmd_bench exports Platform__WarmUpConnections=64 for the admission load, ADR 0780); three
        // dispatchers inheriting that held 186 idle connections beside its 64, past PostgreSQL's 100, and their jobs got none (0 deliveries).
        // They only deliver: no warm-up of the admission paths.
        start.Environment.Remove("Platform__WarmUpConnections");
        start.Environment["Platform__WarmUp"] = "false";
        if (profileDir is not null)
        {
            // A line per dispatch round (claim, requests, finish), written to the profile folder (ADR 0700).
            start.Environment["Logging__LogLevel__Platform.Engines.Webhooks"] = "Debug";
        }
        var process = Process.Start(start)!;
        if (profileDir is null)
        {
            _ = process.StandardOutput.ReadToEndAsync();
        }
        else
        {
            var log = new StreamWriter(Path.Combine(profileDir, $"webhook-dispatcher-{index}.log")) { AutoFlush = true };
            _ = Task.Run(async () =>
            {
                await using (log)
                {
                    while (await process.StandardOutput.ReadLineAsync() is { } line)
                    {
                        await log.WriteLineAsync(line);
                    }
                }
            });
        }
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }
}
