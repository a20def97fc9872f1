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
    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets whether the warm-up is over (done, skipped or failed).</summary>
    public bool Ready => done.Task.IsCompleted;

    /// <summary>Marks the warm-up over.</summary>
    public void Complete() => done.TrySetResult();
}

/// <summary>Warms the hot paths once the server listens, before /readyz answers ready (ADR 0751): opens the database pool's connections at once
/// (each a SCRAM handshake that the first burst of requests would otherwise pay), then sends the admission, usage and key-authentication routes
/// a few rounds of requests over loopback with a well-formed key that does not exist, so that routing, authentication (the key lookup by hash),
/// problem details and their JSON run once before real callers come. Nothing is written. Skipped under a test server (no address) and with
/// Platform:WarmUp=false.</summary>
internal sealed class WarmUpService(
    WarmUpState state, IServiceScopeFactory scopes, IConfiguration configuration, IServer server, IHostApplicationLifetime lifetime, PlatformOptions options,
    ILogger<WarmUpService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (options.WarmUp && await ListeningAddressAsync(stoppingToken) is { } address)
            {
                var clock = Stopwatch.StartNew();
                await OpenPoolAsync(stoppingToken);
                var pool = clock.Elapsed;
                await SendHotRequestsAsync(address, stoppingToken);
                logger.LogInformation("Warm-up done in {Milliseconds} ms (pool {PoolMilliseconds} ms)", (long)clock.Elapsed.TotalMilliseconds, (long)pool.TotalMilliseconds);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A warm-up that fails (the database is down at start) must not keep the service unready: /readyz checks the database itself.
            logger.LogWarning(e, "Warm-up failed; the service answers without it");
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

    private async Task OpenPoolAsync(CancellationToken stoppingToken)
    {
        // Never more than the pool holds: the sessions are held together, and one more would wait for a connection that never frees.
        var builder = new DbConnectionStringBuilder { ConnectionString = configuration.GetConnectionString("Platform") ?? "" };
        var poolSize = builder.TryGetValue("Maximum Pool Size", out var max) || builder.TryGetValue("MaxPoolSize", out max)
            ? Convert.ToInt32(max, System.Globalization.CultureInfo.InvariantCulture) : 100;
        using var scope = scopes.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new WarmDatabasePool(Math.Min(poolSize, options.WarmUpConnections)), stoppingToken);
    }

    private static async Task SendHotRequestsAsync(Uri address, CancellationToken stoppingToken)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var key = "pk_live_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var tenant = Guid.NewGuid();
        for (var round = 0; round < 3; round++)
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
                using var response = await http.SendAsync(request, stoppingToken);
            }));
        }
    }
}
