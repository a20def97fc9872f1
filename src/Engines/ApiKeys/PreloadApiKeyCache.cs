using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
using Platform.Models;

namespace Platform.Engines.ApiKeys;

/// <summary>Fills this instance's key cache, before it answers ready, with the keys used within the last UsedWithin that could authenticate now,
/// most recently used first, at most Limit (ADR 0821): after a start the first request of every caller otherwise looks its key up in a session
/// of its own. Waits up to WaitForListener for the change listener (the cache is trusted only while it listens; a fill from before would be
/// dropped). The entries' lifetimes are spread over the second half of the cache's time to live, so that they go back to the database a few at
/// a time. Returns how many were cached and the keys' tenants, most recent first, each once.</summary>
public sealed record PreloadApiKeyCache(int Limit, TimeSpan UsedWithin, TimeSpan WaitForListener) : IRequest<PreloadedApiKeys>;

/// <summary>Holds what a <see cref="PreloadApiKeyCache"/> did: the keys cached and their tenants (most recently used first, each once).</summary>
public sealed record PreloadedApiKeys(int Cached, IReadOnlyList<Guid> Tenants);

internal sealed class PreloadApiKeyCacheHandler(IDbSessionFactory sessions, IApiKeyDriver keys, ApiKeyCache cache, IClock clock)
    : IRequestHandler<PreloadApiKeyCache, PreloadedApiKeys>
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public async Task<PreloadedApiKeys> Handle(PreloadApiKeyCache command, CancellationToken cancellationToken)
    {
        if (command.Limit <= 0)
        {
            return new PreloadedApiKeys(0, []);
        }
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!cache.IsServing)
        {
            if (waited.Elapsed >= command.WaitForListener)
            {
                return new PreloadedApiKeys(0, []);
            }
            await Task.Delay(Poll, cancellationToken);
        }
        var seen = cache.Generation;
        IReadOnlyList<Models.ApiKeys.RecentApiKey> recent;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            recent = await keys.ListUsedSinceAsync(session, clock.UtcNow - command.UsedWithin, command.Limit, cancellationToken);
        }
        var cached = 0;
        var tenants = new List<Guid>();
        var known = new HashSet<Guid>();
        var half = ApiKeyCache.TimeToLive / 2;
        for (var i = 0; i < recent.Count; i++)
        {
            // From the whole time to live for the most recent key down to half of it for the least recent.
            var lifetime = ApiKeyCache.TimeToLive - half * i / recent.Count;
            if (cache.Store(Convert.ToBase64String(recent[i].KeyHash), recent[i].Credentials, seen, lifetime))
            {
                cached++;
            }
            if (known.Add(recent[i].Credentials.TenantId))
            {
                tenants.Add(recent[i].Credentials.TenantId);
            }
        }
        return new PreloadedApiKeys(cached, tenants);
    }
}
