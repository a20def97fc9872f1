using System.Data.Common;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MediatR;
using Platform.Engines.Health;

namespace Platform.Api.Hosting;

/// <summary>Tells whether the start-up warm-up is over; /readyz answers ready only then (ADR 0751).</summary>
public sealed class WarmUpState
{
    /// <summary>Is the header a warm-up request carries its process's token in.</summary>
    public const string Header = "X-Platform-Warm-Up";

    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets this process's warm-up token: random per start, never logged or returned, so only the warm-up itself can send it (ADR 0800).</summary>
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));

    /// <summary>Tells whether the request is this process's own warm-up: from loopback and carrying the token (compared in fixed time).</summary>
    public bool IsWarmUpRequest(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote)
        && context.Request.Headers.TryGetValue(Header, out var sent) && sent.Count == 1
        && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(sent.ToString()), System.Text.Encoding.ASCII.GetBytes(Token));

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
        var builder = new DbConnectionStringBuilder { ConnectionString = configuration.GetConnectionString("Platform") ?? "" };
        var poolSize = builder.TryGetValue("Maximum Pool Size", out var max) || builder.TryGetValue("MaxPoolSize", out max)
            ? Convert.ToInt32(max, System.Globalization.CultureInfo.InvariantCulture) : 100;
        var wanted = Math.Max(0, Math.Min(poolSize - LeftToOthers, options.WarmUpConnections));
        using var scope = scopes.CreateScope();
        var opened = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new WarmDatabasePool(wanted, TimeSpan.FromSeconds(5)), cancellationToken);
        logger.LogInformation("Warm-up opened {Opened} of {Wanted} database connections (pool {PoolSize})", opened, wanted, poolSize);
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
        var cap = TimeSpan.FromSeconds(options.WarmUpMaxSeconds);
        var compiledAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        var lastCount = compiledAtStart;
        var lastChange = clock.Elapsed;
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
            var count = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (count != lastCount)
            {
                lastCount = count;
                lastChange = clock.Elapsed;
            }
            if (clock.Elapsed >= cap)
            {
                stoppedBy = " (stopped at Platform:WarmUpMaxSeconds)";
                break;
            }
            if (rounds >= MinimumRounds && clock.Elapsed - lastChange >= SettleWindow)
            {
                break;
            }
        }
        logger.LogInformation("Warm-up sent {Rounds} rounds of the hot routes in {Milliseconds} ms; the JIT compiled {Methods} methods meanwhile{Capped}",
            rounds, (long)clock.Elapsed.TotalMilliseconds, System.Runtime.JitInfo.GetCompiledMethodCount() - compiledAtStart, stoppedBy);
    }
}
