using System.Data.Common;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using System.Text.Json.Nodes;
using MediatR;
using Platform.Engines.ApiKeys;
using Platform.Engines.Health;
using Platform.Engines.Tenants;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Plans;

namespace Platform.Api.Hosting;

/// <summary>Tells whether the start-up warm-up is over; /readyz answers ready only then (ADR 0751).</summary>
public sealed class WarmUpState
{
    /// <summary>Is the header a warm-up request carries its process's token in.</summary>
    public const string Header = "X-Platform-Warm-Up";

    /// <summary>Is the header a warm-up request names its sandbox lane in (ADR 0820); read only on requests that carry the token.</summary>
    public const string LaneHeader = "X-Platform-Warm-Up-Lane";

    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets this process's warm-up token: random per start, never logged or returned, so only the warm-up itself can send it (ADR 0800).</summary>
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>Tells whether the request is this process's own warm-up: from loopback and carrying the token (compared in fixed time).</summary>
    public bool IsWarmUpRequest(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote)
        && context.Request.Headers.TryGetValue(Header, out var sent) && sent.Count == 1
        && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(sent.ToString()), System.Text.Encoding.ASCII.GetBytes(Token));

    private readonly Stopwatch clock = new();

    /// <summary>Starts the warm-up's clock (the steps share one Platform:WarmUpMaxSeconds, ADR 0815).</summary>
    public void Start() => clock.Start();

    /// <summary>Gets how long a step that repeats until the JIT settles may still go on: what is left of the warm-up's cap since it started,
    /// but never less than the floor (a step's minimum rounds still run).</summary>
    public TimeSpan Remaining(TimeSpan cap, TimeSpan floor) => cap - clock.Elapsed is var left && left > floor ? left : floor;

    /// <summary>Gets whether the warm-up is over (done, skipped or failed).</summary>
    public bool Ready => done.Task.IsCompleted;

    /// <summary>Marks the warm-up over.</summary>
    public void Complete() => done.TrySetResult();
}

/// <summary>Is one step of the start-up warm-up (ADR 0751, 0780). The steps run one after another, in registration order, once the server
/// listens; /readyz answers ready after the last. A step that fails is logged and the next one runs: a warm-up never keeps the service unready.</summary>
public interface IWarmUpStep
{
    /// <summary>Gets the step's name for the log.</summary>
    string Name { get; }

    /// <summary>Runs the step; address is the server's loopback address, or null under a test server (no socket: the built-in steps skip).</summary>
    Task RunAsync(Uri? address, CancellationToken cancellationToken);
}

/// <summary>Runs the warm-up steps once the server listens and marks the warm-up over when they are done (ADR 0751, 0780). Platform:WarmUp=false
/// skips them all.</summary>
internal sealed class WarmUpService(
    WarmUpState state, IEnumerable<IWarmUpStep> steps, IServer server, IHostApplicationLifetime lifetime, PlatformOptions options, ILogger<WarmUpService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var address = await ListeningAddressAsync(stoppingToken);
            if (!options.WarmUp)
            {
                return;
            }
            var clock = Stopwatch.StartNew();
            state.Start();
            var timings = new List<string>();
            foreach (var step in steps)
            {
                var stepClock = Stopwatch.StartNew();
                try
                {
                    await step.RunAsync(address, stoppingToken);
                    timings.Add($"{step.Name} {(long)stepClock.Elapsed.TotalMilliseconds} ms");
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A step that fails (the database is down at start) must not keep the service unready: /readyz checks the database itself.
                    timings.Add($"{step.Name} failed");
                    logger.LogWarning(e, "Warm-up step {Step} failed; the service answers without it", step.Name);
                }
            }
            logger.LogInformation("Warm-up done in {Milliseconds} ms ({Steps})", (long)clock.Elapsed.TotalMilliseconds, string.Join(", ", timings));
        }
        finally
        {
            state.Complete();
        }
    }

    /// <summary>Waits until the server listens and returns a loopback base address of it, or null under a test server.</summary>
    private async Task<Uri?> ListeningAddressAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task;
        }
        var first = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal));
        if (first is null)
        {
            return null;
        }
        var uri = new UriBuilder(first.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "localhost")
        {
            uri.Host = "127.0.0.1";
        }
        return uri.Uri;
    }
}

/// <summary>Opens the database pool's connections at once (each a SCRAM handshake that the first burst of requests would otherwise pay): at most
/// Platform:WarmUpConnections, and never the whole pool, since the change listener holds one of its connections for the life of the process and
/// a session that waits for a connection that never frees would hold the warm-up for the pool's whole timeout (it did, ADR 0780).</summary>
internal sealed class DatabasePoolWarmUp(IServiceScopeFactory scopes, IConfiguration configuration, PlatformOptions options, ILogger<DatabasePoolWarmUp> logger)
    : IWarmUpStep
{
    /// <summary>Is how many of the pool's connections the warm-up leaves to the rest of the service (the change listener's LISTEN, a readiness check).</summary>
    internal const int LeftToOthers = 2;

    public string Name => "database pool";

    public async Task RunAsync(Uri? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return;
        }
        var (wanted, poolSize) = Connections(configuration, options);
        using var scope = scopes.CreateScope();
        var opened = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new WarmDatabasePool(wanted, TimeSpan.FromSeconds(5)), cancellationToken);
        logger.LogInformation("Warm-up opened {Opened} of {Wanted} database connections (pool {PoolSize})", opened, wanted, poolSize);
    }

    /// <summary>Gets how many connections the warm-up opens (Platform:WarmUpConnections, at most the pool's Maximum Pool Size less
    /// <see cref="LeftToOthers"/>) and the pool's size.</summary>
    internal static (int Wanted, int PoolSize) Connections(IConfiguration configuration, PlatformOptions options)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = configuration.GetConnectionString("Platform") ?? "" };
        var poolSize = builder.TryGetValue("Maximum Pool Size", out var max) || builder.TryGetValue("MaxPoolSize", out max)
            ? Convert.ToInt32(max, System.Globalization.CultureInfo.InvariantCulture) : 100;
        return (Math.Max(0, Math.Min(poolSize - LeftToOthers, options.WarmUpConnections)), poolSize);
    }
}

/// <summary>Runs the hot routes' success paths for real before /readyz says ready, inside the warm-up sandboxes, transactions that are always
/// rolled back (ADR 0815, 0820): one lane per database connection the pool warm-up opens (<see cref="Lanes"/>), each lane a sandbox on its own connection with its
/// own owner, free tenant and API key (in-process; the first lane's owner signs up, the others are made without bcrypt), then over loopback,
/// with the lane's key, the lane's number and this process's warm-up token, rounds of admit, complete, usage ingestion, usage summary and
/// quota check on every lane at once. So the code of a 201 (the engines, the drivers' readers, Npgsql's converters, the JSON of each answer) is
/// compiled, and re-compiled at tier 1, and every pooled connection's PostgreSQL backend has planned and prepared the hot statements and
/// compiled the PL/pgSQL they call, before the first caller needs it. The server runs each lane's requests one at a time in its sandbox;
/// nothing of it is committed, counted or cached. At least <see cref="MinimumRounds"/> rounds in all and
/// <see cref="MinimumRoundsPerLane"/> per lane, then until the JIT has compiled nothing new for <see cref="HotRouteWarmUp.SettleWindow"/>, at
/// most Platform:WarmUpMaxSeconds.</summary>
internal sealed class SuccessPathWarmUp(
    WarmUpState state, WarmUpSandboxes sandboxes, IServiceScopeFactory scopes, IConfiguration configuration, PlatformOptions options,
    ILogger<SuccessPathWarmUp> logger)
    : IWarmUpStep
{
    /// <summary>Is how many rounds are always sent in all: each route is then called past the runtime's tier-1 call count of 30.</summary>
    internal const int MinimumRounds = 40;

    /// <summary>Is how many rounds each lane always sends: Npgsql prepares a statement on its second use on a connection (AutoPrepareMinUsages),
    /// the third runs it prepared.</summary>
    internal const int MinimumRoundsPerLane = 3;

    /// <summary>Is how many runs a lane admits at most: the free plan's day has 100.</summary>
    internal const int MaximumRunsPerLane = 90;

    /// <summary>Is how many pooled connections the lanes leave beside the pool step's <see cref="DatabasePoolWarmUp.LeftToOthers"/>: a process
    /// that runs its jobs holds two more listeners on the pool (the worker catalogue's and the webhook wake-up's), and the lanes hold theirs
    /// for seconds, not an instant, so that no job nor readiness check waits for a connection meanwhile.</summary>
    internal const int LeftBesideLanes = 2;

    public string Name => "success paths";

    /// <summary>Gets how many lanes run: one per connection the pool step opened, less <see cref="LeftBesideLanes"/> when the pool is that
    /// tight, and at least one.</summary>
    internal static int Lanes((int Wanted, int PoolSize) connections) =>
        Math.Max(1, Math.Min(connections.Wanted, connections.PoolSize - DatabasePoolWarmUp.LeftToOthers - LeftBesideLanes));

    public async Task RunAsync(Uri? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return;
        }
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        IReadOnlyList<Lane> lanesRun = [];
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var stoppedBy = "";
        await sandboxes.RunAsync(
            Lanes(DatabasePoolWarmUp.Connections(configuration, options)),
            async (lane, token) =>
            {
                using var scope = scopes.CreateScope();
                var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                var name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                var email = $"warm-up-{name}@warm-up.invalid";
                // The first lane runs the sign-up itself; the others' owners skip its bcrypt work (a quarter of a second each).
                var ownerId = lane == 0
                    ? (await mediator.Send(new SignUp(email, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)), "Warm-up", null), token)).Id
                    : await mediator.Send(new CreateWarmUpOwner(email), token);
                var owner = Caller.User(ownerId);
                var membership = await mediator.Send(new CreateTenant(owner, "Warm-up", "warm-up-" + name, PlanCatalog.Free, null, TrialFallbacks.Free), token);
                var key = await mediator.Send(new CreateApiKey(owner, membership.Tenant.Id, "warm-up",
                    [ApiKeyPermissions.RunsWrite, ApiKeyPermissions.RunsRead, ApiKeyPermissions.UsageWrite, ApiKeyPermissions.UsageRead, ApiKeyPermissions.QuotaCheck],
                    null, null, null, null), token);
                return new Lane(membership.Tenant.Id, key.Secret);
            },
            async (lanes, token) =>
            {
                lanesRun = lanes;
                using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
                // The cap is checked between rounds, never by cancelling a request in flight: an aborted request would abort its statement
                // on a sandbox's one connection, and a reader left mid-way there held the rollback (and readiness) for good once.
                var deadline = clock.Elapsed + state.Remaining(TimeSpan.FromSeconds(options.WarmUpMaxSeconds), TimeSpan.FromSeconds(2));
                var jit = new JitWatch();
                for (var iteration = 1; ; iteration++)
                {
                    await Task.WhenAll(lanes.Select((lane, index) => RoundAsync(http, index, lane, failures)));
                    rounds += lanes.Count;
                    if (jit.Settled() && rounds >= MinimumRounds && iteration >= MinimumRoundsPerLane)
                    {
                        break;
                    }
                    if (failures.Values.Sum() > 3 * lanes.Count)
                    {
                        stoppedBy = " (stopped: the routes kept failing)";
                        break;
                    }
                    if (clock.Elapsed >= deadline || token.IsCancellationRequested)
                    {
                        stoppedBy = " (stopped at Platform:WarmUpMaxSeconds)";
                        break;
                    }
                }
            },
            cancellationToken);
        logger.LogInformation("Warm-up ran {Rounds} rounds of the success paths in {Lanes} lanes (a connection each) in {Milliseconds} ms, {Runs} runs admitted and rolled back{Failures}{Stopped}",
            rounds, lanesRun.Count, (long)clock.Elapsed.TotalMilliseconds, lanesRun.Sum(lane => lane.Admitted),
            failures.IsEmpty ? "" : "; unexpected answers: " + string.Join(", ", failures.Select(f => $"{f.Key} x{f.Value}")), stoppedBy);
    }

    /// <summary>Is one lane's tenant and key, made in its sandbox, and how many runs it admitted.</summary>
    private sealed class Lane(Guid tenant, string secret)
    {
        public Guid Tenant { get; } = tenant;

        public string Secret { get; } = secret;

        public int Admitted { get; set; }
    }

    /// <summary>Sends one round of a lane: admit and complete a run (while the lane's day allows), record a usage event, read the summary and
    /// check a quota.</summary>
    private async Task RoundAsync(HttpClient http, int index, Lane lane, System.Collections.Concurrent.ConcurrentDictionary<string, int> failures)
    {
        if (lane.Admitted < MaximumRunsPerLane)
        {
            var run = await SendAsync(http, HttpMethod.Post, $"/v1/tenants/{lane.Tenant}/runs", new { worker_id = "summarizer", task = "warm-up" }, index, lane, failures);
            if (run?["id"]?.GetValue<string>() is { } id)
            {
                lane.Admitted++;
                await SendAsync(http, HttpMethod.Post, $"/v1/tenants/{lane.Tenant}/runs/{id}/complete",
                    new { success = true, total_tokens = 100, latency_ms = 5 }, index, lane, failures);
            }
        }
        await SendAsync(http, HttpMethod.Post, $"/v1/tenants/{lane.Tenant}/usage/events",
            new[] { new { meter = "api_calls", amount = 1, idempotency_key = Guid.NewGuid().ToString("N") } }, index, lane, failures);
        await SendAsync(http, HttpMethod.Get, $"/v1/tenants/{lane.Tenant}/usage", null, index, lane, failures);
        await SendAsync(http, HttpMethod.Post, $"/v1/tenants/{lane.Tenant}/quota-checks", new { meter = "api_calls", amount = 1 }, index, lane, failures);
    }

    /// <summary>Sends one request of a lane with its key, its number and the warm-up token; a non-2xx answer is counted by route and status,
    /// not thrown.</summary>
    private async Task<JsonNode?> SendAsync(HttpClient http, HttpMethod method, string path, object? body, int index, Lane lane,
        System.Collections.Concurrent.ConcurrentDictionary<string, int> failures)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", lane.Secret);
        request.Headers.TryAddWithoutValidation(WarmUpState.Header, state.Token);
        request.Headers.TryAddWithoutValidation(WarmUpState.LaneHeader, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request, CancellationToken.None);
        if (!response.IsSuccessStatusCode)
        {
            var route = System.Text.RegularExpressions.Regex.Replace(path, "[0-9a-f]{8}-[0-9a-f-]{27}", "{id}");
            failures.AddOrUpdate($"{method} {route} {(int)response.StatusCode}", 1, (_, n) => n + 1);
            return null;
        }
        return method == HttpMethod.Get ? null : await response.Content.ReadFromJsonAsync<JsonNode>(CancellationToken.None);
    }
}

/// <summary>Sends the admission, usage and usage-summary routes rounds of requests over loopback with a well-formed key that does not exist
/// (401), so that routing, authentication (the key look-up by hash), problem details and their JSON run before real callers come. Nothing is
/// written. It sends at least <see cref="MinimumRounds"/> rounds (each route well past the runtime's tier-1 call count of 30, so that the
/// re-compilation of the hot code happens now, not under the first load) and then goes on until the JIT has compiled nothing new for
/// <see cref="SettleWindow"/>, at most Platform:WarmUpMaxSeconds in all (ADR 0800). The requests carry the process's warm-up token: their
/// refusals are not logged as if they were attacks.</summary>
internal sealed class HotRouteWarmUp(WarmUpState state, PlatformOptions options, ILogger<HotRouteWarmUp> logger) : IWarmUpStep
{
    /// <summary>Is how many rounds of 16 requests are always sent: each route gets more than 80 calls.</summary>
    internal const int MinimumRounds = 16;

    /// <summary>Is how long the JIT's compiled-method count must stay unchanged for the warm-up to end.</summary>
    internal static readonly TimeSpan SettleWindow = TimeSpan.FromMilliseconds(500);

    public string Name => "hot routes";

    public async Task RunAsync(Uri? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return;
        }
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var key = "pk_live_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var tenant = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        // What the success paths left of the warm-up's cap (ADR 0815), at least 2 s for the minimum rounds.
        var cap = state.Remaining(TimeSpan.FromSeconds(options.WarmUpMaxSeconds), TimeSpan.FromSeconds(2));
        var jit = new JitWatch();
        var rounds = 0;
        var stoppedBy = "";
        // The cap also ends a round in flight (a database that does not answer would hold a round for its connection timeout).
        using var capped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        capped.CancelAfter(cap);
        while (true)
        {
            var failed = 0;
            try
            {
                await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
                {
                    using var request = (i % 3) switch
                    {
                        0 => new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/runs") { Content = JsonContent.Create(new { worker_id = "summarizer", task = "warm-up" }) },
                        1 => new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenant}/usage/events") { Content = JsonContent.Create(new[] { new { meter = "api_calls", amount = 1, idempotency_key = "warm-up" } }) },
                        _ => new HttpRequestMessage(HttpMethod.Get, $"/v1/tenants/{tenant}/usage"),
                    };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    request.Headers.TryAddWithoutValidation(WarmUpState.Header, state.Token);
                    using var response = await http.SendAsync(request, capped.Token);
                    if ((int)response.StatusCode >= 500)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }));
            }
            catch (OperationCanceledException) when (capped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                stoppedBy = " (stopped at Platform:WarmUpMaxSeconds)";
                break;
            }
            rounds++;
            if (failed > 0)
            {
                // The database does not answer (503): nothing more to warm; /readyz reports the database itself.
                stoppedBy = " (stopped: the service answered 5xx)";
                break;
            }
            if (clock.Elapsed >= cap)
            {
                stoppedBy = " (stopped at Platform:WarmUpMaxSeconds)";
                break;
            }
            if (jit.Settled() && rounds >= MinimumRounds)
            {
                break;
            }
        }
        logger.LogInformation("Warm-up sent {Rounds} rounds of the hot routes in {Milliseconds} ms; the JIT compiled {Methods} methods meanwhile{Capped}",
            rounds, (long)clock.Elapsed.TotalMilliseconds, jit.Compiled, stoppedBy);
    }
}

/// <summary>Watches the JIT for the warm-up steps that repeat until it settles: settled once its compiled-method count has not changed for
/// <see cref="HotRouteWarmUp.SettleWindow"/>, checked between rounds.</summary>
internal sealed class JitWatch
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly long first = System.Runtime.JitInfo.GetCompiledMethodCount();
    private long last;
    private TimeSpan lastChange;

    public JitWatch() => last = first;

    /// <summary>Gets how many methods the JIT compiled since the watch began.</summary>
    public long Compiled => System.Runtime.JitInfo.GetCompiledMethodCount() - first;

    /// <summary>Reads the count now and tells whether it has stayed the same for the settle window.</summary>
    public bool Settled()
    {
        var count = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (count != last)
        {
            last = count;
            lastChange = clock.Elapsed;
        }
        return clock.Elapsed - lastChange >= HotRouteWarmUp.SettleWindow;
    }
}
