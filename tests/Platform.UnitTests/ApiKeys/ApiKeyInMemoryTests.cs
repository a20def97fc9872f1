using NSubstitute;
using Platform.Engines.ApiKeys;
using Platform.Models;
using Platform.Models.ApiKeys;

namespace Platform.UnitTests.ApiKeys;

public sealed class ApiKeyInMemoryTests
{
    private static ApiKeyCredentials Key(Guid id) => new(Guid.NewGuid(), id, ["runs:read"], null, null, null, null, null, null);

    [Test]
    public void The_usage_recorder_loses_no_count_under_parallel_records_and_drains()
    {
        var recorder = new ApiKeyUsageRecorder();
        var tenant = Guid.NewGuid();
        var keys = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToArray();
        var drained = new System.Collections.Concurrent.ConcurrentBag<ApiKeyUsage>();
        using var stop = new CancellationTokenSource();
        var drainer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var u in recorder.Drain())
                {
                    drained.Add(u);
                }
                await Task.Delay(1);
            }
        });
        Parallel.For(0, 200_000, i => recorder.Record(tenant, keys[i % keys.Length], DateTimeOffset.UnixEpoch.AddSeconds(i)));
        stop.Cancel();
        drainer.Wait();
        foreach (var u in recorder.Drain())
        {
            drained.Add(u);
        }
        Assert.Multiple(() =>
        {
            Assert.That(drained.Sum(u => u.Requests), Is.EqualTo(200_000));
            Assert.That(drained.Max(u => u.LastUsedAt), Is.EqualTo(DateTimeOffset.UnixEpoch.AddSeconds(199_999)));
            Assert.That(ApiKeyUsageRecorder.PerTenant(drained.ToList()).Single().Requests, Is.EqualTo(200_000));
        });
    }

    [Test]
    public void The_cache_is_not_used_until_the_listener_is_connected_and_is_emptied_when_it_is_lost()
    {
        var cache = new ApiKeyCache(new SystemClock());
        var id = Guid.NewGuid();
        cache.Store("h", Key(id), cache.Generation);
        Assert.That(cache.TryGet("h", out _), Is.False);
        cache.StartServing();
        cache.Store("h", Key(id), cache.Generation);
        Assert.That(cache.TryGet("h", out var found), Is.True);
        Assert.That(found.Id, Is.EqualTo(id));
        cache.StopServing();
        Assert.That(cache.TryGet("h", out _), Is.False);
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public void A_fill_that_raced_with_an_invalidation_is_not_kept()
    {
        var cache = new ApiKeyCache(new SystemClock());
        cache.StartServing();
        var id = Guid.NewGuid();
        var seen = cache.Generation;
        // The key is revoked while this fill was reading the database.
        cache.Invalidate(id);
        cache.Store("h", Key(id), seen);
        Assert.That(cache.TryGet("h", out _), Is.False);
        cache.Store("h", Key(id), cache.Generation);
        cache.Invalidate(id);
        Assert.That(cache.TryGet("h", out _), Is.False);
    }

    [Test]
    public void A_given_lifetime_ends_an_entry_sooner_but_never_later_than_the_time_to_live()
    {
        var clock = new MovableClock();
        var cache = new ApiKeyCache(clock);
        cache.StartServing();
        cache.Store("short", Key(Guid.NewGuid()), cache.Generation, TimeSpan.FromMinutes(3));
        cache.Store("long", Key(Guid.NewGuid()), cache.Generation, TimeSpan.FromMinutes(30));
        cache.Store("plain", Key(Guid.NewGuid()), cache.Generation);
        clock.UtcNow += TimeSpan.FromMinutes(3) - TimeSpan.FromTicks(1);
        Assert.That(cache.TryGet("short", out _), Is.True);
        clock.UtcNow += TimeSpan.FromTicks(1);
        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet("short", out _), Is.False);
            Assert.That(cache.TryGet("long", out _), Is.True);
            Assert.That(cache.TryGet("plain", out _), Is.True);
        });
        clock.UtcNow += TimeSpan.FromMinutes(2);
        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet("long", out _), Is.False, "a lifetime longer than the time to live is cut to it");
            Assert.That(cache.TryGet("plain", out _), Is.False);
        });
    }

    [Test]
    public void Entries_filled_together_expire_spread_over_the_last_quarter_of_the_time_to_live()
    {
        // ADR 0821: a fill without a lifetime lives a random 75-100 % of the time to live, so that the entries of one second do not all go back
        // to the database in one second five minutes later.
        var clock = new MovableClock();
        var cache = new ApiKeyCache(clock);
        cache.StartServing();
        for (var i = 0; i < 400; i++)
        {
            cache.Store("k" + i, Key(Guid.NewGuid()), cache.Generation);
        }
        int Alive() => Enumerable.Range(0, 400).Count(i => cache.TryGet("k" + i, out _));
        var start = clock.UtcNow;
        var alive = new[] { 3.74, 4.0, 4.375, 4.75, 5.0 }.Select(minutes =>
        {
            clock.UtcNow = start + TimeSpan.FromMinutes(minutes);
            return Alive();
        }).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(alive[0], Is.EqualTo(400), "none expires before 75 %");
            Assert.That(alive[1], Is.InRange(200, 400 - 1), "some expire between 75 and 80 %");
            Assert.That(alive[2], Is.InRange(120, 280), "about half expire by 87.5 %");
            Assert.That(alive[3], Is.InRange(1, 150), "some live past 95 %");
            Assert.That(alive[4], Is.Zero, "none outlives the time to live");
        });
    }

    [Test]
    public async Task A_start_up_fill_spreads_its_entries_lifetimes_over_the_second_half_of_the_time_to_live()
    {
        // ADR 0821: four keys, most recent first, live 5, 4.375, 3.75 and 3.125 minutes, so that they go back to the database a few at a time.
        var clock = new MovableClock();
        var cache = new ApiKeyCache(clock);
        cache.StartServing();
        var recent = Enumerable.Range(0, 4).Select(i => new RecentApiKey([(byte)i], Key(Guid.NewGuid()))).ToList();
        var keys = Substitute.For<Platform.Drivers.ApiKeys.IApiKeyDriver>();
        keys.ListUsedSinceAsync(default!, default, default, default).ReturnsForAnyArgs(recent);
        var sessions = Substitute.For<Platform.Drivers.Sessions.IDbSessionFactory>();
        sessions.OpenAsync(default, default, default).ReturnsForAnyArgs(Substitute.For<Platform.Drivers.Sessions.IDbSession>());
        var handler = new PreloadApiKeyCacheHandler(sessions, keys, cache, clock);

        var preloaded = await handler.Handle(new PreloadApiKeyCache(10, TimeSpan.FromHours(1), TimeSpan.Zero), CancellationToken.None);
        bool[] Alive() => recent.Select(r => cache.TryGet(Convert.ToBase64String(r.KeyHash), out _)).ToArray();
        var start = clock.UtcNow;
        var seen = new List<bool[]>();
        foreach (var minutes in new[] { 3.1, 3.2, 3.8, 4.4, 5.0 })
        {
            clock.UtcNow = start + TimeSpan.FromMinutes(minutes);
            seen.Add(Alive());
        }
        Assert.Multiple(async () =>
        {
            Assert.That(preloaded.Cached, Is.EqualTo(4));
            Assert.That(preloaded.Tenants, Is.EqualTo(recent.Select(r => r.Credentials.TenantId)));
            Assert.That(seen[0], Is.EqualTo(new[] { true, true, true, true }));
            Assert.That(seen[1], Is.EqualTo(new[] { true, true, true, false }));
            Assert.That(seen[2], Is.EqualTo(new[] { true, true, false, false }));
            Assert.That(seen[3], Is.EqualTo(new[] { true, false, false, false }));
            Assert.That(seen[4], Is.EqualTo(new[] { false, false, false, false }));
            await keys.Received(1).ListUsedSinceAsync(Arg.Any<Platform.Drivers.Sessions.IDbSession>(), start - TimeSpan.FromHours(1), 10, Arg.Any<CancellationToken>());
        });
    }

    [Test]
    public void A_change_waits_for_the_acknowledgement_of_every_listening_instance()
    {
        var cache = new ApiKeyCache(new SystemClock());
        cache.StartServing();
        var id = Guid.NewGuid();
        var acknowledged = cache.ExpectAcknowledgements(id, 3);
        cache.Invalidate(id);
        cache.OnAcknowledged(id);
        cache.OnAcknowledged(Guid.NewGuid());
        cache.OnAcknowledged(id);
        Assert.That(acknowledged.IsCompleted, Is.False);
        cache.OnAcknowledged(id);
        Assert.That(acknowledged.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Secrets_have_256_random_bits_after_the_fixed_prefix_and_only_their_shape_passes()
    {
        var a = ApiKeySecrets.NewSecret();
        var b = ApiKeySecrets.NewSecret();
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.Not.EqualTo(b));
            Assert.That(ApiKeySecrets.HasKeyShape(a), Is.True);
            Assert.That(ApiKeySecrets.HasKeyShape(a[..^1]), Is.False);
            Assert.That(ApiKeySecrets.HasKeyShape("pk_test_" + a[8..]), Is.False);
            Assert.That(ApiKeySecrets.Hash(a), Has.Length.EqualTo(32));
            Assert.That(ApiKeySecrets.DisplayPrefix(a), Is.EqualTo(a[..16]));
            Assert.That(new AuthenticateApiKey(a).ToString(), Does.Not.Contain(a[8..]));
        });
    }

    private sealed class MovableClock : IClock
    {
        public DateTimeOffset UtcNow { get; set; } = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    }
}
