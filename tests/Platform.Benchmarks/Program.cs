using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Benchmarks;

// Benchmarks of the running service over HTTP on loopback, each beside a baseline measured in the same command.
// ./platform bench starts a throwaway PostgreSQL and the service, then runs this with the BENCH_* variables set.
var env = new BenchEnvironment();
var report = new StringBuilder();
var clients = env.Int("BENCH_CLIENTS", 64);
var seconds = TimeSpan.FromSeconds(env.Int("BENCH_SECONDS", 10));
var warmup = TimeSpan.FromSeconds(env.Int("BENCH_WARMUP_SECONDS", 3));
var inv = CultureInfo.InvariantCulture;

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{
    BaseAddress = new Uri(env.Require("BENCH_URL")),
    Timeout = TimeSpan.FromSeconds(30),
};

// Cold start: the service was started just before this process; wait for /healthz, then load at once.
var coldClock = Stopwatch.StartNew();
while (true)
{
    try
    {
        using var health = await http.GetAsync("/healthz");
        if (health.IsSuccessStatusCode)
        {
            break;
        }
    }
    catch (HttpRequestException)
    {
    }
    await Task.Delay(50);
}
var healthzAfter = coldClock.Elapsed;
// BENCH_ONLY=admit,ingest,summary,quota,tenants,flood,webhooks,dashboard runs a subset (for profiling) and leaves docs/benchmarks.md alone but
// for the webhook, admission and dashboard sections, which replace their previous ones.
var only = (Environment.GetEnvironmentVariable("BENCH_ONLY") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
bool Runs(string figure) => only.Length == 0 || only.Contains(figure, StringComparer.Ordinal);
// The dashboard's browser scenario (issue 13, ADR 0786) needs none of the load set-up below: alone, it runs straight away.
if (only is ["dashboard"])
{
    var dashboardOut = env.Require("BENCH_OUT");
    var dashboardSection = await DashboardBenchmark.RunAsync(env, http);
    Console.WriteLine(dashboardSection);
    File.WriteAllText(dashboardOut, DashboardBenchmark.Replace(File.Exists(dashboardOut) ? File.ReadAllText(dashboardOut) : "", dashboardSection));
    return 0;
}
var setup = new BenchSetup(http, env);
var token = await setup.SignUpAsync();
var tenants = new List<Guid>();
var keys = new List<string>();
for (var i = 0; i < 10; i++)
{
    tenants.Add(await setup.CreateUnlimitedTenantAsync(token, i));
    keys.Add(await setup.CreateKeyAsync(token, tenants[i]));
}
var setupDone = coldClock.Elapsed;
var none = new LoadResult(0, 0, 1, double.NaN, double.NaN, double.NaN, []);
var cold = await LoadGenerator.RunAsync(clients, TimeSpan.Zero, TimeSpan.FromSeconds(10), (c, n) => AdmitAndCompleteAsync(c, n));
Console.WriteLine($"cold: {cold.PerSecond:F0} pairs/s in the first 10 s (per second: {string.Join(", ", cold.PerSecondBuckets)}), errors {cold.Errors}");

var warm = Runs("admit") || Runs("tenants") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitAndCompleteAsync(c, n)) : none;
Console.WriteLine($"admit+complete: {warm.PerSecond:F0} pairs/s p50 {warm.P50Ms:F1} ms p99 {warm.P99Ms:F1} ms errors {warm.Errors}");
var admitOnly = Runs("admit") ? await LoadGenerator.RunAsync(clients, warmup, seconds, async (c, n) => await AdmitAsync(c) is not null) : none;
Console.WriteLine($"admit only: {admitOnly.PerSecond:F0} req/s p50 {admitOnly.P50Ms:F1} ms p99 {admitOnly.P99Ms:F1} ms errors {admitOnly.Errors}");

var scripts = env.Int("BENCH_PGBENCH_SCRIPTS", 30);
var pgbench = Runs("admit") ? await setup.RunPgbenchAsync(tenants, clients, scripts) : new PgbenchResult(double.NaN, double.NaN);
Console.WriteLine($"pgbench: {pgbench.Tps:F0} tps (admit+complete script), mean latency {pgbench.LatencyMs:F1} ms");
var pgbenchAdmit = Runs("admit") ? await setup.RunPgbenchAsync(tenants, clients, scripts * 2, admitOnly: true) : new PgbenchResult(double.NaN, double.NaN);
Console.WriteLine($"pgbench: {pgbenchAdmit.Tps:F0} tps (admit script), mean latency {pgbenchAdmit.LatencyMs:F1} ms");

// Usage ingestion: 1,000-event batches with fresh keys and decimal amounts (issue 14), beside a raw COPY of the same rows.
var ingestClients = env.Int("BENCH_INGEST_CLIENTS", 8);
var runTag = Guid.NewGuid().ToString("N")[..8];
var ingest = !Runs("ingest") ? none : await LoadGenerator.RunAsync(ingestClients, warmup, seconds, async (c, n) =>
{
    var batch = new StringBuilder("[", 80_000);
    for (var i = 0; i < 1000; i++)
    {
        batch.Append(i == 0 ? "" : ",").Append("{\"meter\":\"m").Append(i % 5).Append("\",\"amount\":").Append(i % 97).Append(".25")
            .Append(",\"idempotency_key\":\"").Append(runTag).Append('-').Append(c).Append('-').Append(n).Append('-').Append(i).Append("\"}");
    }
    batch.Append(']');
    using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenants[c % tenants.Count]}/usage/events")
    {
        Content = new StringContent(batch.ToString(), Encoding.UTF8, "application/json"),
    };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[c % keys.Count]);
    using var response = await http.SendAsync(request);
    return response.IsSuccessStatusCode;
});
var eventsPerSecond = ingest.PerSecond * 1000;
Console.WriteLine($"ingest: {eventsPerSecond:F0} events/s p50 {ingest.P50Ms:F1} ms p99 {ingest.P99Ms:F1} ms errors {ingest.Errors}");
var copyPerSecond = Runs("ingest") ? await setup.CopyBaselineAsync(tenants[0], 200_000) : double.NaN;
Console.WriteLine($"COPY: {copyPerSecond:F0} rows/s");
// Where the rest goes: the service's own statement run by pgbench, with no HTTP, JSON or .NET in the way.
var ingestSql = Runs("ingest") ? await setup.RunIngestPgbenchAsync(tenants, ingestClients, env.Int("BENCH_PGBENCH_INGEST_SCRIPTS", 40)) : new PgbenchResult(double.NaN, double.NaN);
var ingestSqlPerSecond = ingestSql.Tps * 1000;
Console.WriteLine($"ingestion statement under pgbench: {ingestSqlPerSecond:F0} events/s");

// Authenticated GET of the usage summary beside a bare endpoint of the same process.
var summary = !Runs("summary") ? none : await LoadGenerator.RunAsync(clients, warmup, seconds, async (c, n) =>
{
    using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/tenants/{tenants[c % tenants.Count]}/usage");
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[c % keys.Count]);
    using var response = await http.SendAsync(request);
    return response.IsSuccessStatusCode;
});
var bare = !Runs("summary") ? none : await LoadGenerator.RunAsync(clients, warmup, seconds, async (c, n) =>
{
    using var response = await http.GetAsync("/healthz");
    return response.IsSuccessStatusCode;
});
Console.WriteLine($"summary: {summary.PerSecond:F0} req/s, bare: {bare.PerSecond:F0} req/s");

// Quota checks (issue 14, ADR 0710): POST /quota-checks with an API key, plain and reserving, beside the bare endpoint measured again just after.
Task<bool> QuotaCheckAsync(int c, bool reserve) => PostAsync(c, $"/v1/tenants/{tenants[c % tenants.Count]}/quota-checks",
    reserve ? "{\"meter\":\"gpu_hours\",\"amount\":0.5,\"reserve\":true}" : "{\"meter\":\"gpu_hours\",\"amount\":0.5}");
// The plain checks and their bare figure both get a longer warm-up: run alone, the plain checks' per-second figure climbed from 4,276 to 12,826
// over the 10 measured seconds after a 3 s warm-up (tiered JIT of the quota path's generic code, compiled in the background on 2 busy cores; ADR 0796),
// so the 3 s figure measured the JIT, not the path. The same warm-up applies to bare, so the ratio compares two warmed paths.
var quotaWarmup = TimeSpan.FromSeconds(env.Int("BENCH_QUOTA_WARMUP_SECONDS", 20));
var quota = !Runs("quota") ? none : await LoadGenerator.RunAsync(clients, quotaWarmup, seconds, (c, n) => QuotaCheckAsync(c, reserve: false));
var quotaReserve = !Runs("quota") ? none : await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => QuotaCheckAsync(c, reserve: true));
// Reserving checks that can be refused (ADR 0765): one tenant whose gpu_hours is hard under a finite limit far above what the run reserves, so that
// every hold passes the meter's lock; all clients on that one tenant's meter.
var hardTenant = Runs("quota") ? await setup.CreateHardGpuTenantAsync(token, 10) : Guid.Empty;
var hardKey = Runs("quota") ? await setup.CreateKeyAsync(token, hardTenant) : "";
var quotaHard = !Runs("quota") ? none : await LoadGenerator.RunAsync(clients, warmup, seconds, async (c, n) =>
{
    using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{hardTenant}/quota-checks")
    {
        Content = new StringContent("{\"meter\":\"gpu_hours\",\"amount\":0.5,\"reserve\":true}", Encoding.UTF8, "application/json"),
    };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", hardKey);
    using var response = await http.SendAsync(request);
    return response.IsSuccessStatusCode;
});
var quotaBare = !Runs("quota") ? none : await LoadGenerator.RunAsync(clients, quotaWarmup, seconds, async (c, n) =>
{
    using var response = await http.GetAsync("/healthz");
    return response.IsSuccessStatusCode;
});
// Per second of the measured windows: a ramp in the plain checks' figure is warm-up (JIT, caches) rather than steady cost.
Console.WriteLine($"quota checks per second: {string.Join(", ", quota.PerSecondBuckets)}; bare per second: {string.Join(", ", quotaBare.PerSecondBuckets)}");
Console.WriteLine($"quota checks: {quota.PerSecond:F0} req/s p99 {quota.P99Ms:F1} ms errors {quota.Errors}; reserving: {quotaReserve.PerSecond:F0} req/s p99 {quotaReserve.P99Ms:F1} ms errors {quotaReserve.Errors}; reserving on a hard meter: {quotaHard.PerSecond:F0} req/s p99 {quotaHard.P99Ms:F1} ms errors {quotaHard.Errors}; bare: {quotaBare.PerSecond:F0} req/s");

// The same admit benchmark with 100,000 more tenants in the database, beside the 10-tenant figure measured again
// just before (same warm process, same table state): the first warm figure runs while the JIT is still tiering up.
var few = Runs("tenants") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitAndCompleteAsync(c, n)) : none;
Console.WriteLine($"admit+complete with 10 tenants, again: {few.PerSecond:F0} pairs/s p99 {few.P99Ms:F1} ms");
if (Runs("tenants"))
{
    await setup.AddTenantsAsSuperuserAsync(100_000);
}
var many = Runs("tenants") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitAndCompleteAsync(c, n)) : none;
Console.WriteLine($"admit+complete with 100,010 tenants: {many.PerSecond:F0} pairs/s p99 {many.P99Ms:F1} ms");
// A-B-A: the 10-tenant figure again after the synthetic tenants are gone, so that drift over time (warm-up, a shared
// machine's load) shows as the difference between the two 10-tenant figures rather than as an effect of the tenants.
if (Runs("tenants"))
{
    await setup.RemoveSyntheticTenantsAsSuperuserAsync();
}
var fewAfter = Runs("tenants") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitAndCompleteAsync(c, n)) : none;
Console.WriteLine($"admit+complete with 10 tenants, after: {fewAfter.PerSecond:F0} pairs/s p99 {fewAfter.P99Ms:F1} ms");
var fewMean = (few.PerSecond + fewAfter.PerSecond) / 2;

// Login flood (ADR 0185, 0186): 1,000 tenants admit runs, alone and while 64 connections send wrong passwords for one
// account (throttled before bcrypt; what passes is bounded by the hashing semaphore). The figure is the tenants' admission p99.
var floodTenants = env.Int("BENCH_FLOOD_TENANTS", 1000);
var floodKeys = new List<(Guid Tenant, string Key)>();
if (Runs("flood"))
{
    var floodOwner = await setup.SignUpAsync();
    for (var i = 0; i < floodTenants; i++)
    {
        var tenant = await setup.CreateUnlimitedTenantAsync(floodOwner, 1_000 + i);
        floodKeys.Add((tenant, await setup.CreateKeyAsync(floodOwner, tenant)));
    }
}
async Task<bool> AdmitFloodTenantAsync(long n)
{
    var (tenant, key) = floodKeys[(int)(n % floodKeys.Count)];
    using var create = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/runs")
    {
        Content = JsonContent.Create(new { worker_id = "summarizer", task = "bench" }),
    };
    create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    using var created = await http.SendAsync(create);
    return created.IsSuccessStatusCode;
}
long admitted = 0;
var quiet = Runs("flood") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitFloodTenantAsync(Interlocked.Increment(ref admitted))) : none;
Console.WriteLine($"admit, 1,000 tenants, no flood: {quiet.PerSecond:F0} req/s p99 {quiet.P99Ms:F1} ms");
var floodStatuses = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
using var stopFlood = new CancellationTokenSource();
var flooders = !Runs("flood") ? Array.Empty<Task>() : Enumerable.Range(0, 64).Select(f => Task.Run(async () =>
{
    while (!stopFlood.IsCancellationRequested)
    {
        try
        {
            using var login = await http.PostAsJsonAsync("/v1/auth/login", new { email = "victim@example.test", password = $"wrong {f}" });
            floodStatuses.AddOrUpdate((int)login.StatusCode, 1, (_, v) => v + 1);
        }
        catch (HttpRequestException)
        {
        }
    }
})).ToArray();
var flooded = Runs("flood") ? await LoadGenerator.RunAsync(clients, warmup, seconds, (c, n) => AdmitFloodTenantAsync(Interlocked.Increment(ref admitted))) : none;
await stopFlood.CancelAsync();
await Task.WhenAll(flooders);
var floodSummary = string.Join(", ", floodStatuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"));
Console.WriteLine($"admit, 1,000 tenants, during a 64-connection wrong-password flood: {flooded.PerSecond:F0} req/s p99 {flooded.P99Ms:F1} ms (flood answers {floodSummary})");
// Webhook delivery (issue 11): its section replaces the previous one in docs/benchmarks.md, also when run alone (BENCH_ONLY=webhooks).
var webhooks = Runs("webhooks") ? await WebhookBenchmark.RunAsync(env, tenants[0]) : "";
// Issue 16's admission figures (ADR 0750, 0751): their section replaces the previous one, also when run alone (BENCH_ONLY=admit).
if (Runs("warmstart") && only.Length > 0)
{
    await AdmissionBenchmark.RunWarmStartAsync(env, setup, http, clients, warmup, seconds);
}
var admission = Runs("admit") ? await AdmissionBenchmark.RunAsync(env, setup, http, clients, warmup, seconds) : "";
var dashboard = Runs("dashboard") ? await DashboardBenchmark.RunAsync(env, http) : "";
if (only.Length > 0)
{
    if (dashboard.Length > 0)
    {
        var path = env.Require("BENCH_OUT");
        File.WriteAllText(path, DashboardBenchmark.Replace(File.Exists(path) ? File.ReadAllText(path) : "", dashboard));
    }
    if (admission.Length > 0)
    {
        const string AdmissionStart = "<!-- admission benchmark -->", AdmissionEnd = "<!-- /admission benchmark -->";
        var path = env.Require("BENCH_OUT");
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        int from = text.IndexOf(AdmissionStart, StringComparison.Ordinal), to = text.IndexOf(AdmissionEnd, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + admission.TrimEnd() + text[(to + AdmissionEnd.Length)..]
            : text.IndexOf("## Reading this run", StringComparison.Ordinal) is var reading and >= 0 ? text[..reading] + admission + "\n" + text[reading..] : text + "\n" + admission;
        File.WriteAllText(path, text);
    }
    if (webhooks.Length > 0)
    {
        var path = env.Require("BENCH_OUT");
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        int from = text.IndexOf(WebhookBenchmark.Start, StringComparison.Ordinal), to = text.IndexOf(WebhookBenchmark.End, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + webhooks.TrimEnd() + text[(to + WebhookBenchmark.End.Length)..]
            : text.IndexOf("## Reading this run", StringComparison.Ordinal) is var reading and >= 0 ? text[..reading] + webhooks + "\n" + text[reading..] : text + "\n" + webhooks;
        File.WriteAllText(path, text);
    }
    return 0;
}

var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", inv);
string F(double v) => v.ToString("F0", inv);
string Ms(double v) => v.ToString("F1", inv);
string Yes(bool met) => met ? "met" : "**not met**";
report.AppendLine("# Benchmarks").AppendLine()
    .AppendLine($"Written by `./platform bench` on {now}: {Environment.ProcessorCount} cores, PostgreSQL 15 (throwaway cluster, fsync off as in tests),")
    .AppendLine($"the service in Release on loopback, {clients} concurrent clients, {warmup.TotalSeconds} s warm-up ({quotaWarmup.TotalSeconds} s for the plain quota checks and their bare figure), {seconds.TotalSeconds} s measured per figure.")
    .AppendLine("Machines here may be shared and noisy, so figures move between runs; the baselines run in the same command to keep ratios meaningful.")
    .AppendLine("Callers authenticate with an API key (one per tenant, no rate limit), as issue 3 asks; a key run also takes and gives back the key's run slot.").AppendLine()
    .AppendLine("| benchmark | platform | baseline | ratio | goal | |")
    .AppendLine("|---|---|---|---|---|---|")
    .AppendLine($"| admit + complete a run (pairs of HTTP requests/s; 10 tenants) | {F(warm.PerSecond)}/s, per pair p50 {Ms(warm.P50Ms)} ms, p99 {Ms(warm.P99Ms)} ms, errors {warm.Errors} | pgbench, same statements: {F(pgbench.Tps)} tps, mean {Ms(pgbench.LatencyMs)} ms | {warm.PerSecond / pgbench.Tps:F2} | >= 0.6 of pgbench, p99 <= 25 ms | {Yes(warm.PerSecond >= 0.6 * pgbench.Tps && warm.P99Ms <= 25)} |")
    .AppendLine($"| admit only (HTTP requests/s; 10 tenants) | {F(admitOnly.PerSecond)}/s, p50 {Ms(admitOnly.P50Ms)} ms, p99 {Ms(admitOnly.P99Ms)} ms, errors {admitOnly.Errors} | pgbench, same statements: {F(pgbenchAdmit.Tps)} tps, mean {Ms(pgbenchAdmit.LatencyMs)} ms | {admitOnly.PerSecond / pgbenchAdmit.Tps:F2} | (no goal of its own) | |")
    .AppendLine($"| usage ingestion, 1,000-event batches, {ingestClients} clients | {F(eventsPerSecond)} events/s, batch p50 {Ms(ingest.P50Ms)} ms, p99 {Ms(ingest.P99Ms)} ms | raw COPY of the same rows: {F(copyPerSecond)} rows/s (the service's insert statement alone, pgbench, {ingestClients} clients: {F(ingestSqlPerSecond)} events/s, {ingestSqlPerSecond / copyPerSecond:F2} of COPY) | {eventsPerSecond / copyPerSecond:F2} | >= 50,000/s and >= 0.5 of COPY | {Yes(eventsPerSecond >= 50_000 && eventsPerSecond >= 0.5 * copyPerSecond)} |")
    .AppendLine($"| authenticated GET usage summary | {F(summary.PerSecond)} req/s, p99 {Ms(summary.P99Ms)} ms | bare /healthz: {F(bare.PerSecond)} req/s | {summary.PerSecond / bare.PerSecond:F2} | >= 0.5 of bare | {Yes(summary.PerSecond >= 0.5 * bare.PerSecond)} |")
    .AppendLine($"| quota check (POST /quota-checks, API key) | {F(quota.PerSecond)} req/s, p99 {Ms(quota.P99Ms)} ms; with reserve: {F(quotaReserve.PerSecond)} req/s, p99 {Ms(quotaReserve.P99Ms)} ms; with reserve on a hard meter (one lock): {F(quotaHard.PerSecond)} req/s, p99 {Ms(quotaHard.P99Ms)} ms | bare /healthz: {F(quotaBare.PerSecond)} req/s | {quota.PerSecond / quotaBare.PerSecond:F2} | >= 0.5 of bare | {Yes(quota.PerSecond >= 0.5 * quotaBare.PerSecond)} |")
    .AppendLine($"| admit + complete with 100,010 tenants in the database | {F(many.PerSecond)}/s, p99 {Ms(many.P99Ms)} ms | 10 tenants just before and just after (synthetic tenants deleted): {F(few.PerSecond)}/s and {F(fewAfter.PerSecond)}/s, mean {F(fewMean)}/s | {many.PerSecond / fewMean:F2} | within 10% | {Yes(Math.Abs(many.PerSecond / fewMean - 1) <= 0.10)} |")
    .AppendLine($"| admit with {floodTenants:N0} tenants during a wrong-password login flood at 64 connections | p99 {Ms(flooded.P99Ms)} ms, {F(flooded.PerSecond)}/s, errors {flooded.Errors} (flood answers {floodSummary}) | no flood: p99 {Ms(quiet.P99Ms)} ms, {F(quiet.PerSecond)}/s | {flooded.P99Ms / quiet.P99Ms:F2} | p99 within 2x of no flood | {Yes(flooded.P99Ms <= 2 * quiet.P99Ms)} |")
    .AppendLine($"| cold start: admit + complete in the first 10 s after set-up | {F(cold.PerSecond)}/s (per second: {string.Join(", ", cold.PerSecondBuckets)}) | warm: {F(warm.PerSecond)}/s | {cold.PerSecond / warm.PerSecond:F2} | no time-outs, full speed quickly | {Yes(cold.Errors == 0)} |")
    .AppendLine()
    .AppendLine($"Cold start: /healthz answered {healthzAfter.TotalSeconds:F1} s after the bench began polling; sign-up and 10 tenants took until {setupDone.TotalSeconds:F1} s; errors in the first 10 s: {cold.Errors}.")
    .AppendLine($"The pgbench scripts (tests/Platform.Benchmarks/BenchSetup.cs) run the statements an API key admission and completion send, one statement per round trip, against the same tenants and keys.");
// The hand-written reading below the table is kept; only the part above it is rewritten.
const string NoteMarker = "## Reading this run";
var outPath = env.Require("BENCH_OUT");
var previous = File.Exists(outPath) ? File.ReadAllText(outPath) : "";
var note = previous.IndexOf(NoteMarker, StringComparison.Ordinal) is var at and >= 0 ? previous[at..] : NoteMarker + " (hand-written; `./platform bench` rewrites the table above, not this note)\n";
Console.WriteLine(report.ToString());
// The close's own section goes above the note too, so that each run replaces it instead of adding another.
report.Append(await CloseBenchmark.RunAsync(env)).AppendLine();
report.Append(webhooks);
report.Append(admission.Length > 0 ? admission + "\n" : "");
report.Append(dashboard.Length > 0 ? dashboard + "\n" : "");
report.Append(note);
File.WriteAllText(outPath, report.ToString());
return 0;

async Task<string?> AdmitAsync(int client)
{
    var tenant = tenants[client % tenants.Count];
    using var create = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/runs")
    {
        Content = JsonContent.Create(new { worker_id = "summarizer", task = "bench" }),
    };
    create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[client % keys.Count]);
    using var created = await http.SendAsync(create);
    return created.IsSuccessStatusCode ? (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]! : null;
}

async Task<bool> PostAsync(int client, string path, string json)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[client % keys.Count]);
    using var response = await http.SendAsync(request);
    return response.IsSuccessStatusCode;
}

async Task<bool> AdmitAndCompleteAsync(int client, long n)
{
    var tenant = tenants[client % tenants.Count];
    if (await AdmitAsync(client) is not { } id)
    {
        return false;
    }
    using var complete = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/runs/{id}/complete")
    {
        Content = JsonContent.Create(new { success = true, total_tokens = 1200, latency_ms = 5 }),
    };
    complete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[client % keys.Count]);
    using var completed = await http.SendAsync(complete);
    return completed.IsSuccessStatusCode;
}
