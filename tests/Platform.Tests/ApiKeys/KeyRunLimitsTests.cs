using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Runs;

namespace Platform.Tests.ApiKeys;

public sealed class KeyRunLimitsTests : DatabaseTest
{
    [Test]
    public async Task A_key_with_max_concurrent_runs_5_admits_exactly_5_of_200_parallel_creates_and_exactly_5_more_after_completing_them()
    {
        var owner = await TestApi.SignUpAsync();
        // The tenant's own limits stay out of the way, so only the key's limit can refuse.
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1).CreateAsync();
        var key = await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 5);
        var client = TestApi.Client(key.Secret);

        var admitted = await AdmitAsync(client, tenantId, 200, expected: 5);
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(5));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(5));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(5));

        // A signed-in member is not bound by the key's limit.
        await Runs.Runs.CreateRunAsync(TestApi.Client(owner.Token), tenantId);

        var completions = await Task.WhenAll(admitted.Select(id => Runs.Runs.CompleteAsync(client, tenantId, id)));
        Assert.That(completions.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(0));

        await AdmitAsync(client, tenantId, 200, expected: 5);
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(5));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(11));
        foreach (var response in completions)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task A_key_limited_to_one_worker_gets_403_worker_not_allowed_for_another_and_keeps_no_slot_or_run()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 3, allowedWorkers: ["summarizer"]);
        var client = TestApi.Client(key.Secret);

        using (var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "classifier", task = "sort" }))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "worker_not_allowed");
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(0));
            Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(0));
            Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));
            Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT count(*) FROM run_stripe_totals(@t, 'worker:classifier') WHERE runs_today > 0"), Is.EqualTo(0));
        });

        var run = await Runs.Runs.CreateRunAsync(client, tenantId, "summarizer");
        Assert.That((string?)run["worker_id"], Is.EqualTo("summarizer"));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(1));

        // The owner may still run any enabled worker.
        await Runs.Runs.CreateRunAsync(TestApi.Client(owner.Token), tenantId, "classifier");
    }

    [Test]
    public async Task The_timeout_job_releases_the_key_slot_of_a_stale_run_and_a_member_completing_a_key_run_releases_it_too()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 1);
        var client = TestApi.Client(key.Secret);

        var stale = Guid.Parse((string)(await Runs.Runs.CreateRunAsync(client, tenantId))["id"]!);
        using (var full = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "second" }))
        {
            var problem = await TestApi.ExpectProblemAsync(full, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That(((string?)problem["quota"], (long?)problem["limit"], (long?)problem["current"]), Is.EqualTo(("key_concurrent_runs", 1L, 1L)));
        }

        await using (var scope = TestApi.Services.CreateAsyncScope())
        {
            var timedOut = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(DateTimeOffset.UtcNow.AddSeconds(5)));
            Assert.That(timedOut, Is.EqualTo(1));
        }
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t AND id = @r AND status = 'timed_out'", ("r", stale)), Is.EqualTo(1));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(0));

        var next = Guid.Parse((string)(await Runs.Runs.CreateRunAsync(client, tenantId))["id"]!);
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(1));
        using (var completed = await Runs.Runs.CompleteAsync(TestApi.Client(owner.Token), tenantId, next))
        {
            await TestApi.ExpectAsync(completed, HttpStatusCode.OK);
        }
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'key:' || @k)", ("k", key.Id)), Is.EqualTo(0));
        await Runs.Runs.CreateRunAsync(client, tenantId);
    }

    [Test]
    public async Task Timeout_copies_racing_release_every_key_slot_exactly_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1).CreateAsync();
        var keys = new[]
        {
            await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 10),
            await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 10),
            await CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 10),
        };
        foreach (var key in keys)
        {
            await AdmitAsync(TestApi.Client(key.Secret), tenantId, 10, expected: 10);
        }

        var before = DateTimeOffset.UtcNow.AddSeconds(5);
        var counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var scope = TestApi.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(before, MaxRunsPerTenant: 4));
        }));
        var total = counts.Sum();
        while (await TestApi.Services.CreateScope().ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(before)) is var more && more > 0)
        {
            total += more;
        }
        Assert.That(total, Is.EqualTo(30));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT coalesce(sum(x.active_runs), -1) FROM api_keys k CROSS JOIN run_stripe_totals(@t, 'key:' || k.id) x WHERE k.tenant_id = @t"), Is.EqualTo(0));
        Assert.That(await Runs.Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));
    }

    /// <summary>Fires n run creations at once and checks that exactly the expected number were admitted and the rest refused with key_concurrent_runs; returns the admitted run ids.</summary>
    private static async Task<List<Guid>> AdmitAsync(HttpClient client, Guid tenantId, int n, int expected)
    {
        var results = await Runs.Runs.CreateManyAsync(client, tenantId, n);
        var admitted = results.Where(r => r.Status == HttpStatusCode.Created).Select(r => Guid.Parse((string)r.Body["id"]!)).ToList();
        var refused = results.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(admitted, Has.Count.EqualTo(expected));
            Assert.That(refused, Has.Count.EqualTo(n - expected));
            Assert.That(refused.Select(r => (string?)r.Body["quota"]), Is.All.EqualTo("key_concurrent_runs"));
        });
        foreach (var result in results)
        {
            result.Response.Dispose();
        }
        return admitted;
    }

    internal static async Task<CreatedKey> CreateKeyAsync(string adminToken, Guid tenantId, int? maxConcurrentRuns = null, string[]? allowedWorkers = null, string[]? permissions = null)
    {
        using var response = await TestApi.Client(adminToken).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new
        {
            name = "runner " + Guid.NewGuid().ToString("N")[..6],
            permissions = permissions ?? ["runs:read", "runs:write", "usage:read"],
            allowed_workers = allowedWorkers,
            max_concurrent_runs = maxConcurrentRuns,
        });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var body = await TestApi.ReadAsync(response);
        return new CreatedKey(Guid.Parse((string)body["id"]!), (string)body["key"]!, body);
    }
}
