using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;
using Platform.Models;

namespace Platform.Tests.ApiKeys;

public sealed class ApiKeyLimitsTests : DatabaseTest
{
    [Test]
    public async Task Max_api_keys_admits_exactly_the_limit_under_50_parallel_creates()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var client = TestApi.Client(owner.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = $"k{i}", permissions = new[] { "runs:read" } })));
        var created = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(created, Is.EqualTo(5));
            Assert.That(refused, Has.Count.EqualTo(45));
        });
        var problem = await TestApi.ExpectProblemAsync(refused[0], HttpStatusCode.TooManyRequests, "quota_exceeded");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("max_api_keys"));
            Assert.That((long?)problem["limit"], Is.EqualTo(5));
            Assert.That((long?)problem["current"], Is.EqualTo(5));
        });
        var rows = await Keys.ReadRowAsync(tenantId, "SELECT (SELECT count(*) FROM api_keys) AS keys, (SELECT api_keys_active FROM tenants) AS active");
        Assert.That(rows!["keys"], Is.EqualTo(5L));
        Assert.That(rows["active"], Is.EqualTo(5));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task A_revoked_key_frees_its_slot()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var first = await Keys.CreateAsync(owner.Token, tenantId);
        await Keys.CreateAsync(owner.Token, tenantId);
        using var third = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "third", permissions = new[] { "runs:read" } });
        await TestApi.ExpectProblemAsync(third, HttpStatusCode.TooManyRequests, "quota_exceeded");
        using var revoke = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{first.Id}");
        await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        await Keys.CreateAsync(owner.Token, tenantId);
    }

    [Test]
    public async Task The_rate_limit_admits_exactly_rpm_requests_under_40_parallel_requests_across_two_hosts()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId, rateLimitRpm: 10);
        // A stopped clock keeps all 40 requests in one one-minute window whatever the machine's speed.
        var clock = new StoppedClock(DateTimeOffset.UtcNow);
        using var hostA = Keys.NewHost(s => s.AddSingleton<IClock>(clock));
        using var hostB = Keys.NewHost(s => s.AddSingleton<IClock>(clock));
        var clients = new[] { hostA.Client(key.Secret), hostB.Client(key.Secret) };

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => clients[i % 2].GetAsync("/v1/tenants/current/features")));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(10));
            Assert.That(limited, Has.Count.EqualTo(30));
        });
        await TestApi.ExpectProblemAsync(limited[0], HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That(limited[0].Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));

        // Two windows later the old requests have left the sliding window entirely.
        clock.UtcNow = clock.UtcNow.AddMinutes(2);
        using var next = await clients[0].GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(next, HttpStatusCode.OK);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task The_rate_limit_slides_half_a_minute_into_the_next_window_it_admits_exactly_half_the_limit_more()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId, rateLimitRpm: 10);
        var now = DateTimeOffset.UtcNow;
        var minute = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        var clock = new StoppedClock(minute.AddSeconds(50));
        using var hostA = Keys.NewHost(s => s.AddSingleton<IClock>(clock));
        using var hostB = Keys.NewHost(s => s.AddSingleton<IClock>(clock));
        var clients = new[] { hostA.Client(key.Secret), hostB.Client(key.Secret) };

        // 10 requests at hh:mm:50 fill the limit.
        var first = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => clients[i % 2].GetAsync("/v1/tenants/current/features")));
        // At hh:mm+1:30 half of the previous window is still inside the last 60 s: floor(10 x 0.5) = 5, so exactly 5 more fit,
        // where a fixed window would have admitted 10 (20 within 40 seconds).
        clock.UtcNow = minute.AddSeconds(90);
        var second = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => clients[i % 2].GetAsync("/v1/tenants/current/features")));
        var refused = second.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);

        Assert.Multiple(() =>
        {
            Assert.That(first.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(10));
            Assert.That(second.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(5));
            Assert.That(second.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(15));
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.InRange(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        });
        foreach (var response in first.Concat(second))
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Last_used_at_and_total_requests_are_flushed_within_seconds_without_a_write_per_request()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        for (var i = 0; i < 7; i++)
        {
            using var ok = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        Dictionary<string, object?>? row = null;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            row = await Keys.ReadRowAsync(tenantId, "SELECT total_requests, last_used_at FROM api_keys WHERE id = @id", ("id", key.Id));
            if ((long)row!["total_requests"]! == 7)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.That(row!["total_requests"], Is.EqualTo(7L));
        Assert.That(row["last_used_at"], Is.Not.Null);
    }

    [Test]
    public async Task Stopping_a_host_flushes_its_counts_and_hands_per_tenant_api_calls_to_the_sinks()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var sink = new RecordingSink();
        var host = Keys.NewHost(s => s.AddSingleton<IApiCallsSink>(sink));
        var client = host.Client(key.Secret);
        for (var i = 0; i < 5; i++)
        {
            using var ok = await client.GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        await host.DisposeAsync();

        var row = await Keys.ReadRowAsync(tenantId, "SELECT total_requests FROM api_keys WHERE id = @id", ("id", key.Id));
        Assert.That(row!["total_requests"], Is.EqualTo(5L));
        Assert.That(sink.Calls.Where(c => c.TenantId == tenantId).Sum(c => c.Requests), Is.EqualTo(5));
    }

    private sealed class RecordingSink : IApiCallsSink
    {
        public System.Collections.Concurrent.ConcurrentBag<TenantApiCalls> Calls { get; } = [];

        public Task RecordApiCallsAsync(IReadOnlyList<TenantApiCalls> calls, CancellationToken cancellationToken)
        {
            foreach (var call in calls)
            {
                Calls.Add(call);
            }
            return Task.CompletedTask;
        }
    }
}
