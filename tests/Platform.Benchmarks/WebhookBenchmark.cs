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
        var rate = env.Int("BENCH_WEBHOOK_EVENTS_PER_SECOND", 250);
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
            var clock = Stopwatch.StartNew();
            long emitted = 0;
            // Emit at a steady rate from 8 writers, each event in its own committed transaction.
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                while (true)
                {
                    var n = Interlocked.Increment(ref emitted) - 1;
                    var due = TimeSpan.FromSeconds((double)n / rate);
                    if (due.TotalSeconds >= seconds)
                    {
                        return;
                    }
                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }
                    await using var session = await sessions.OpenAsync(tenantId, null, CancellationToken.None);
                    await driver.EmitAsync(session, emitter.Create(tenantId, WebhookEventTypes.RunCompleted, example), CancellationToken.None);
                    await session.CommitAsync(CancellationToken.None);
                }
            })).ToList();
            await Task.WhenAll(writers);
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
            var (p50, p99, max, http50, http99) = await CommitToFirstAttemptAsync(env, tenantId);
            await Task.Delay(TimeSpan.FromSeconds(1)); // the statistics collector's figures are flushed about once a second
            var updatesAfter = await OutboxUpdatesAsync(env);
            var (updates, hot) = (updatesAfter.Updates - updatesBefore.Updates, updatesAfter.Hot - updatesBefore.Hot);
            var perSecond = delivered / total;
            Console.WriteLine($"webhooks: {delivered} of {expected} deliveries in {total:F1} s = {perSecond:F0}/s; commit-to-first-attempt p50 {p50:F0} ms p99 {p99:F0} ms max {max:F0} ms; "
                + $"first attempt's request p50 {http50:F0} ms p99 {http99:F0} ms; outbox_messages updates {updates}, of them HOT {hot}");
            string F(double v) => v.ToString("F0", inv);
            return new StringBuilder()
                .AppendLine(Start)
                .AppendLine("## Webhook delivery").AppendLine()
                .AppendLine($"Run on {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", inv)}: {events:N0} `run.completed` events emitted by committed transactions at {rate}/s for {seconds} s "
                    + $"(8 writers) to {endpoints} endpoints of one tenant on the node receiver (tests/webhooks/receiver.js, loopback), delivered by {processes} service processes "
                    + "(`Platform.Api.dll serve` with its jobs, default webhook settings) beside the bench's own service.").AppendLine()
                .AppendLine("| figure | webhooks | baseline | ratio | goal | |")
                .AppendLine("|---|---|---|---|---|---|")
                .AppendLine($"| deliveries acknowledged per second (emission start to last acknowledgement) | {F(perSecond)}/s ({delivered:N0} of {expected:N0} in {total:F1} s) | the receiver alone, same client, 64 in flight: {F(baseline.PerSecond)} req/s | {perSecond / baseline.PerSecond:F2} | >= 2,000/s | {(perSecond >= 2000 ? "met" : "**not met**")} |")
                .AppendLine($"| commit to first attempt | p50 {F(p50)} ms, p99 {F(p99)} ms, max {F(max)} ms | | | p99 < 1 s | {(p99 < 1000 ? "met" : "**not met**")} |")
                .AppendLine()
                .AppendLine($"Where the time went: the first attempt's HTTP request took p50 {F(http50)} ms, p99 {F(http99)} ms (webhook_attempts.latency_ms); "
                    + $"outbox_messages took {updates:N0} row updates during the run, {hot:N0} of them heap-only (HOT, pg_stat_user_tables.n_tup_hot_upd; "
                    + $"a claim's lease should be HOT, a finish that changes the status cannot be, ADR 0610). The machine's load average at the end of the run (1, 5, 15 min; 2 cores): {LoadAverage()}; the bench does not control what else runs.")
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
