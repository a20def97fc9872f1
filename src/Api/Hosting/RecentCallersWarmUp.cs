using System.Diagnostics;
using System.Net;
using MediatR;
using Platform.Engines.ApiKeys;
using Platform.Engines.IpAllowlists;

namespace Platform.Api.Hosting;

/// <summary>Fills the caches a caller's first request after a start would fill (ADR 0821): the API keys used in the last hour (at most
/// Platform:WarmUpCachedKeys, most recent first) and the IP allowlists of their tenants, read through the same engine paths a request takes.
/// Each of those first requests would otherwise open two more sessions (the key by hash; the tenant, its overrides and its allowlist) while it
/// holds an admission slot: under the 1,000-tenant admission load a fresh process served half as many admissions in its first seconds.</summary>
internal sealed class RecentCallersWarmUp(IServiceScopeFactory scopes, IConfiguration configuration, PlatformOptions options, ILogger<RecentCallersWarmUp> logger)
    : IWarmUpStep
{
    /// <summary>Is how far back a key's last use counts as recent.</summary>
    internal static readonly TimeSpan UsedWithin = TimeSpan.FromHours(1);

    /// <summary>Is how long the step waits for the change listener to connect (the caches are trusted only while it listens).</summary>
    internal static readonly TimeSpan WaitForListener = TimeSpan.FromSeconds(5);

    public string Name => "recent callers";

    public async Task RunAsync(Uri? address, CancellationToken cancellationToken)
    {
        if (address is null || options.WarmUpCachedKeys <= 0)
        {
            return;
        }
        var clock = Stopwatch.StartNew();
        PreloadedApiKeys preloaded;
        using (var scope = scopes.CreateScope())
        {
            preloaded = await scope.ServiceProvider.GetRequiredService<IMediator>()
                .Send(new PreloadApiKeyCache(options.WarmUpCachedKeys, UsedWithin, WaitForListener), cancellationToken);
        }
        // As many at once as the warm-up has connections for (the pool step opened them); each fill is one short session.
        var parallel = SuccessPathWarmUp.Lanes(DatabasePoolWarmUp.Connections(configuration, options));
        await Parallel.ForEachAsync(preloaded.Tenants, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken },
            async (tenant, token) =>
            {
                using var scope = scopes.CreateScope();
                await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CheckClientAddress(tenant, IPAddress.Loopback), token);
            });
        logger.LogInformation("Warm-up cached {Keys} API keys used in the last hour and the IP allowlists of their {Tenants} tenants in {Milliseconds} ms",
            preloaded.Cached, preloaded.Tenants.Count, (long)clock.Elapsed.TotalMilliseconds);
    }
}
