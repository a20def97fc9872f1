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
}
