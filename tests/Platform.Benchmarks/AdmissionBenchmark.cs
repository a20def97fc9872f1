using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Platform.Benchmarks;

/// <summary>Issue 16's admission figures (ADR 0750, 0751): 1,000 tenants with one key each at 64 connections (admit only, limits that never
/// bind) beside pgbench running the same transaction; one tenant alone at 64 connections; an open-loop run at half the 1,000-tenant peak
/// (p99); and a fresh service process loaded with the 1,000 tenants the moment /readyz answers ready (max and p99 of the first 10 s), once
/// as built (JIT, no warm-up) and once as ./platform run starts it (ReadyToRun, warm-up).</summary>
internal static partial class AdmissionBenchmark
{
    public static async Task<string> RunAsync(BenchEnvironment env, BenchSetup setup, HttpClient http, int clients, TimeSpan warmup, TimeSpan seconds)
    {
        var owner = await setup.SignUpAsync();
        var tenants = new List<(Guid Tenant, string Key)>();
        var count = env.Int("BENCH_ADMIT_TENANTS", 1000);
        for (var i = 0; i < count; i++)
        {
            var tenant = await setup.CreateUnlimitedTenantAsync(owner, 20_000 + i);
            tenants.Add((tenant, await setup.CreateKeyAsync(owner, tenant)));
        }
        Console.WriteLine($"admission: {count} tenants with one key each created");

        Task<bool> Admit(HttpClient client, (Guid Tenant, string Key) caller) => AdmitAsync(client, caller.Tenant, caller.Key);
        var many = await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => Admit(http, tenants[Random.Shared.Next(tenants.Count)]));
        Console.WriteLine($"admit, {count} tenants: {many.PerSecond:F0} req/s p50 {many.P50Ms:F1} ms p99 {many.P99Ms:F1} ms max {many.MaxMs:F1} ms (slowest per second: {string.Join(", ", many.MaxMsPerSecond)}) errors {many.Errors}");
        var one = await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => Admit(http, tenants[0]));
        Console.WriteLine($"admit, one tenant: {one.PerSecond:F0} req/s p50 {one.P50Ms:F1} ms p99 {one.P99Ms:F1} ms errors {one.Errors}");
        var scripts = env.Int("BENCH_PGBENCH_SCRIPTS", 30) * 2;
        // pgbench takes at most 128 scripts: the 1,000-tenant baseline spreads over 100 of them (contention is as negligible at 100 as at 1,000).
        var pgMany = await setup.RunPgbenchAsync(tenants.Take(100).Select(t => t.Tenant).ToList(), clients, scripts, admitOnly: true);
        var pgOne = await setup.RunPgbenchAsync([tenants[0].Tenant], clients, scripts, admitOnly: true);
        Console.WriteLine($"pgbench admit: {pgMany.Tps:F0} tps over 100 tenants, {pgOne.Tps:F0} tps on one tenant");
        var rate = many.PerSecond / 2;
        var open = await OpenLoopAsync(rate, seconds, () => Admit(http, tenants[Random.Shared.Next(tenants.Count)]));
        Console.WriteLine($"admit, open loop at {rate:F0}/s: p50 {open.P50Ms:F1} ms p99 {open.P99Ms:F1} ms max {open.MaxMs:F1} ms errors {open.Errors}");

        var dll = env.Require("BENCH_API_DLL");
        var plainDll = PlainDll(env);
        var coldPlain = await FreshStartAsync(plainDll, new Dictionary<string, string> { ["Platform__WarmUp"] = "false" }, tenants, clients);
        var coldWarm = await FreshStartAsync(dll, new Dictionary<string, string> { ["Platform__WarmUp"] = "true" }, tenants, clients);
        foreach (var (name, fresh) in new[] { ("as built", coldPlain), ("as run", coldWarm) })
        {
            Console.WriteLine($"fresh start {name}: ready {fresh.ReadySeconds:F1} s; p99 {fresh.Load.P99Ms:F1} ms max {fresh.Load.MaxMs:F1} ms; per second {string.Join(", ", fresh.Load.PerSecondBuckets)}; slowest per second {string.Join(", ", fresh.Load.MaxMsPerSecond)}; {fresh.Log}");
        }
        var load = string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("F0", inv);
        string Ms(double v) => v.ToString("F1", inv);
        string Yes(bool met) => met ? "met" : "**not met**";
        var r2r = dll != plainDll;
        return new StringBuilder()
            .AppendLine("<!-- admission benchmark -->")
            .AppendLine("## Admission (issue 16)").AppendLine()
            .AppendLine($"Run on {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", inv)} by `BENCH_ONLY=admit ./platform bench`: admit only (POST /runs), API key callers, {clients} connections, limits that never bind; the load average (1, 5, 15 min) at the end: {load}.").AppendLine()
            .AppendLine("| figure | platform | baseline | ratio | goal | |")
            .AppendLine("|---|---|---|---|---|---|")
            .AppendLine($"| admit, {count:N0} tenants (a random tenant's key per request) | {F(many.PerSecond)}/s, p50 {Ms(many.P50Ms)} ms, p99 {Ms(many.P99Ms)} ms, max {Ms(many.MaxMs)} ms, errors {many.Errors} | pgbench, the same transaction over 100 of the tenants: {F(pgMany.Tps)} tps | {many.PerSecond / pgMany.Tps:F2} | >= 0.6 of pgbench | {Yes(many.PerSecond >= 0.6 * pgMany.Tps)} |")
            .AppendLine($"| admit, one tenant alone | {F(one.PerSecond)}/s, p50 {Ms(one.P50Ms)} ms, p99 {Ms(one.P99Ms)} ms, errors {one.Errors} | {count:N0} tenants: {F(many.PerSecond)}/s (pgbench on the one tenant: {F(pgOne.Tps)} tps) | {one.PerSecond / many.PerSecond:F2} | >= 0.5 of {count:N0} tenants | {Yes(one.PerSecond >= 0.5 * many.PerSecond)} |")
            .AppendLine($"| admit, open loop at half the {count:N0}-tenant peak ({F(rate)}/s, latency from the scheduled start) | p50 {Ms(open.P50Ms)} ms, p99 {Ms(open.P99Ms)} ms, max {Ms(open.MaxMs)} ms, {open.Operations} requests, errors {open.Errors} | | | p99 <= 50 ms | {Yes(open.P99Ms <= 50)} |")
            .AppendLine($"| a fresh process, {count:N0}-tenant admit load from the moment /readyz is ready, first 10 s ({(r2r ? "ReadyToRun" : "JIT: the publish failed")}, warm-up) | ready after {coldWarm.ReadySeconds:F1} s; p99 {Ms(coldWarm.Load.P99Ms)} ms, max {Ms(coldWarm.Load.MaxMs)} ms, {F(coldWarm.Load.PerSecond)}/s (per second: {string.Join(", ", coldWarm.Load.PerSecondBuckets)}; slowest per second, ms: {string.Join(", ", coldWarm.Load.MaxMsPerSecond)}), errors {coldWarm.Load.Errors} | as built (JIT, Platform__WarmUp=false): ready after {coldPlain.ReadySeconds:F1} s; p99 {Ms(coldPlain.Load.P99Ms)} ms, max {Ms(coldPlain.Load.MaxMs)} ms, {F(coldPlain.Load.PerSecond)}/s (per second: {string.Join(", ", coldPlain.Load.PerSecondBuckets)}; slowest per second, ms: {string.Join(", ", coldPlain.Load.MaxMsPerSecond)}), errors {coldPlain.Load.Errors} | | no request > 250 ms | {Yes(coldWarm.Load.MaxMs <= 250 && coldWarm.Load.Errors == 0)} |")
            .AppendLine()
            .AppendLine("The pgbench script (tests/Platform.Benchmarks/BenchSetup.cs, AdmitScript) sends the statements of an API key admission one per round trip: the scope, the tenant and worker reads, the run and audit inserts and `run_admit` (ADR 0750).")
            .AppendLine("<!-- /admission benchmark -->")
            .ToString();
    }

    private static async Task<bool> AdmitAsync(HttpClient client, Guid tenant, string key)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/runs")
        {
            Content = JsonContent.Create(new { worker_id = "summarizer", task = "bench" }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var created = await client.SendAsync(create);
        return created.StatusCode == HttpStatusCode.Created;
    }

    /// <summary>Starts requests at a fixed rate whatever the answers (an open loop); each latency runs from the request's scheduled start, so a
    /// stall counts for every request it delays.</summary>
    internal static async Task<LoadResult> OpenLoopAsync(double rate, TimeSpan duration, Func<Task<bool>> op)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var tasks = new Task<(double Ms, bool Ok)>[total];
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due - clock.Elapsed is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait);
            }
            tasks[i] = Task.Run(async () =>
            {
                bool ok;
                try
                {
                    ok = await op();
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }
                return ((clock.Elapsed - due).TotalMilliseconds, ok);
            });
        }
        var results = await Task.WhenAll(tasks);
        var sorted = results.Select(r => r.Ms).Order().ToArray();
        double P(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        return new LoadResult(sorted.Length, results.Count(r => !r.Ok), duration.TotalSeconds, sorted.Length / duration.TotalSeconds, P(0.5), P(0.99), [])
        {
            MaxMs = sorted.Length == 0 ? 0 : sorted[^1],
        };
    }

    /// <summary>BENCH_ONLY=warmstart (profiling, writes nothing): the 1,000 tenants, the steady-state max of the same closed-loop load on the
    /// warm bench service, then one fresh process per variant of BENCH_WARMSTART_VARIANTS ("label:KEY=VALUE KEY=VALUE;..."; the key
    /// client=warm opens the client's connections against /healthz before the measured window, dll=plain runs the plain build), each printed
    /// with its per-second counts and maxima, so that where the first seconds' latency comes from can be read one change at a time.</summary>
    public static async Task RunWarmStartAsync(BenchEnvironment env, BenchSetup setup, HttpClient http, int clients, TimeSpan warmup, TimeSpan seconds)
    {
        var owner = await setup.SignUpAsync();
        var tenants = new List<(Guid Tenant, string Key)>();
        var count = env.Int("BENCH_ADMIT_TENANTS", 1000);
        for (var i = 0; i < count; i++)
        {
            var tenant = await setup.CreateUnlimitedTenantAsync(owner, 20_000 + i);
            tenants.Add((tenant, await setup.CreateKeyAsync(owner, tenant)));
        }
        var steady = await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) =>
        {
            var caller = tenants[Random.Shared.Next(tenants.Count)];
            return AdmitAsync(http, caller.Tenant, caller.Key);
        });
        Console.WriteLine($"warmstart steady (warm service, {count} tenants): {steady.PerSecond:F0}/s p99 {steady.P99Ms:F1} ms max {steady.MaxMs:F1} ms (per-second max: {string.Join(", ", steady.MaxMsPerSecond)})");
        var dll = env.Require("BENCH_API_DLL");
        var plainDll = PlainDll(env);
        var variants = Environment.GetEnvironmentVariable("BENCH_WARMSTART_VARIANTS") ?? "as-run:;client-warm:client=warm;plain:dll=plain Platform__WarmUp=false";
        foreach (var variant in variants.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var label = variant.Split(':', 2)[0];
            var settings = variant.Split(':', 2).ElementAtOrDefault(1)?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]) ?? new Dictionary<string, string>();
            var warmClient = settings.Remove("client", out var c) && c == "warm";
            var steadyAfter = settings.Remove("after", out var a) && a == "1";
            var path = settings.Remove("dll", out var d) && d == "plain" ? plainDll : dll;
            // Variant key tenants=N: the load uses the first N tenants only, so that a tenant's first admission in a fresh process (its key
            // looked up, its rows first touched) is paid within the first second instead of over the whole window.
            var callers = settings.Remove("tenants", out var t) ? tenants.Take(int.Parse(t, CultureInfo.InvariantCulture)).ToList() : tenants;
            var fresh = await FreshStartAsync(path, settings, callers, clients, warmClient, steadyAfter ? seconds : null);
            Console.WriteLine($"warmstart {label}: ready {fresh.ReadySeconds:F1} s; {fresh.Load.PerSecond:F0}/s p99 {fresh.Load.P99Ms:F1} ms max {fresh.Load.MaxMs:F1} ms errors {fresh.Load.Errors}; per second {string.Join(", ", fresh.Load.PerSecondBuckets)}; per-second max {string.Join(", ", fresh.Load.MaxMsPerSecond)}; {fresh.Log}");
        }
        Console.WriteLine($"warmstart load average: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static string PlainDll(BenchEnvironment env) =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(env.Require("BENCH_OUT"))!)!, "src", "Api", "bin", "Release", "net10.0", "Platform.Api.dll");

    /// <summary>Starts another service process on the same database, waits for /readyz to answer ready and loads it at once for 10 s.</summary>
    private static async Task<(double ReadySeconds, LoadResult Load, string Log)> FreshStartAsync(
        string dll, IReadOnlyDictionary<string, string> settings, List<(Guid Tenant, string Key)> tenants, int clients, bool warmClient = false,
        TimeSpan? steadyAfter = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll, "serve"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Platform.Api.Hosting"] = "Information";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
                Timeout = TimeSpan.FromSeconds(30),
            };
            while (true)
            {
                try
                {
                    using var ready = await client.GetAsync("/readyz");
                    if (ready.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(2))
                {
                    process.Kill(entireProcessTree: true);
                    var said = await output;
                    throw new InvalidOperationException("The fresh service did not become ready in 2 minutes. It said: " + said[Math.Max(0, said.Length - 6000)..]);
                }
                await Task.Delay(20);
            }
            var readySeconds = clock.Elapsed.TotalSeconds;
            var before = await ScrapeAsync(client);
            if (warmClient)
            {
                // The client's own side: as many connections as the load uses, opened and used once before the measured window.
                await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ => (await client.GetAsync("/healthz")).Dispose()));
            }
            var load = await LoadGenerator.RunAsync(clients, TimeSpan.Zero, TimeSpan.FromSeconds(10),
                (c, n) =>
                {
                    var caller = tenants[Random.Shared.Next(tenants.Count)];
                    return AdmitAsync(client, caller.Tenant, caller.Key);
                });
            var after = await ScrapeAsync(client);
            if (steadyAfter is { } window)
            {
                // Variant key after=1 (BENCH_ONLY=warmstart): the same process's steady state right after, so that settings that change the
                // steady-state tail (Platform__AdmissionConcurrency, ADR 0800) are compared on processes started alike.
                var steady = await LoadGenerator.RunAsync(clients, TimeSpan.FromSeconds(3), window, (c, n) =>
                {
                    var caller = tenants[Random.Shared.Next(tenants.Count)];
                    return AdmitAsync(client, caller.Tenant, caller.Key);
                });
                Console.WriteLine($"  steady after (same process, {string.Join(' ', settings.Select(kv => kv.Key + "=" + kv.Value))}): {steady.PerSecond:F0}/s p50 {steady.P50Ms:F1} ms p99 {steady.P99Ms:F1} ms max {steady.MaxMs:F1} ms errors {steady.Errors}; per-second max {string.Join(", ", steady.MaxMsPerSecond)}");
            }
            process.Kill(entireProcessTree: true);
            var log = string.Join(" | ", (await output).Split('\n').Where(l => l.Contains("Warm-up", StringComparison.Ordinal)).Select(l => l.Trim()));
            // The service's own view of the window (its /metrics, runtime and HTTP server instruments): what changed while it was loaded.
            var deltas = after.Where(p => Watched().IsMatch(p.Key))
                .Select(p => $"{p.Key} {(p.Value - before.GetValueOrDefault(p.Key)).ToString("0.###", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"fresh start {Path.GetFileName(Path.GetDirectoryName(dll))} ({string.Join(' ', settings.Select(kv => kv.Key + "=" + kv.Value))}): server metrics over the 10 s:\n  {string.Join("\n  ", deltas)}");
            return (readySeconds, load, log);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Reads the service's /metrics (Prometheus text) into series and values; empty when it cannot be read.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient client)
    {
        var series = new Dictionary<string, double>();
        try
        {
            var text = await client.GetStringAsync("/metrics");
            foreach (var line in text.Split('\n'))
            {
                var space = line.LastIndexOf(' ');
                if (line.Length > 0 && line[0] != '#' && space > 0
                    && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    series[line[..space]] = value;
                }
            }
        }
        catch (HttpRequestException)
        {
        }
        return series;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"jit|gc_collections|thread_pool_threads|thread_pool_completed|lock_contention|gc_pause|^http_server_request_duration_seconds_(count\{.*runs|bucket\{.*runs.*le=""(0\.1|0\.25|0\.5|1|2\.5)"")")]
    private static partial System.Text.RegularExpressions.Regex Watched();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
