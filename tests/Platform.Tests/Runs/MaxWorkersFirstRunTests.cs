using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Runs;

/// <summary>A tenant's first run of a worker it has no config of enables the worker only within max_workers (ADR 0771): parallel first runs of
/// different workers at the cap enable exactly the cap's number, the refusal names the quota, and an operator's override moves the cap.</summary>
public sealed class MaxWorkersFirstRunTests : DatabaseTest
{
    // The seeded workers that cost no credits and take any input.
    private static readonly string[] Free = ["classifier", "extractor", "summarizer"];

    private static Task<long> EnabledAsync(Guid tenantId) =>
        OwnerSql.CountAsync("SELECT count(*) FROM worker_configs WHERE enabled", tenantId);

    private static async Task<HttpResponseMessage> RunAsync(HttpClient client, Guid tenantId, string worker) =>
        await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = worker, task = "first", input = new { text = "x" } });

    [Test]
    public async Task Parallel_first_runs_of_three_workers_on_a_two_worker_plan_enable_exactly_two_and_name_the_quota()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithPlan("free").WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync(); // max_workers 2
        var client = TestApi.Client(owner.Token);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 15).Select(async i =>
        {
            var worker = Free[i % 3];
            using var response = await RunAsync(client, tenantId, worker);
            return (Worker: worker, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        var byWorker = attempts.GroupBy(a => a.Worker).ToDictionary(g => g.Key, g => g.Select(a => a.StatusCode).Distinct().ToList());
        Assert.Multiple(async () =>
        {
            Assert.That(byWorker.Values.Count(s => s.SequenceEqual([HttpStatusCode.Created])), Is.EqualTo(2),
                string.Join("\n", attempts.Select(a => $"{a.Worker} {a.StatusCode} {a.Body}").Take(6)));
            Assert.That(byWorker.Values.Count(s => s.SequenceEqual([HttpStatusCode.Conflict])), Is.EqualTo(1));
            Assert.That(await EnabledAsync(tenantId), Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs", tenantId), Is.EqualTo(10));
        });
        var refused = attempts.First(a => a.StatusCode == HttpStatusCode.Conflict);
        var problem = System.Text.Json.Nodes.JsonNode.Parse(refused.Body)!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["code"], Is.EqualTo("max_workers_exceeded"));
            Assert.That((string?)problem["quota"], Is.EqualTo("max_workers"));
            Assert.That((long?)problem["limit"], Is.EqualTo(2));
            Assert.That((long?)problem["current"], Is.EqualTo(2));
        });

        // Disabling one frees its slot for the third worker's first run; the disabled one is refused as disabled, not enabled again.
        var enabled = byWorker.Where(w => w.Value.SequenceEqual([HttpStatusCode.Created])).Select(w => w.Key).ToList();
        var third = Free.Except(enabled).Single();
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{enabled[0]}/config", new { enabled = false }), HttpStatusCode.OK);
        using (var run = await RunAsync(client, tenantId, third))
        {
            await TestApi.ExpectAsync(run, HttpStatusCode.Created);
        }
        using (var disabled = await RunAsync(client, tenantId, enabled[0]))
        {
            await TestApi.ExpectProblemAsync(disabled, HttpStatusCode.Forbidden, "worker_disabled");
        }
        Assert.That(await EnabledAsync(tenantId), Is.EqualTo(2));
    }

    [Test]
    public async Task An_operators_override_of_max_workers_decides_the_first_run_of_a_worker()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithPlan("free").WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync(); // max_workers 2
        var client = TestApi.Client(owner.Token);
        var (_, operatorClient) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        async Task OverrideAsync(long value, string quota = "max_workers")
        {
            using var set = await operatorClient.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/{quota}", new { value, reason_code = "pilot" });
            Assert.That(set.StatusCode, Is.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.OK));
        }

        // An override writes the tenant's limit columns from the plan and the overrides: concurrency is lifted by an override too.
        await OverrideAsync(-1, "max_concurrent_runs");
        await OverrideAsync(1);
        using (var first = await RunAsync(client, tenantId, "classifier"))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        using (var second = await RunAsync(client, tenantId, "extractor"))
        {
            var problem = await TestApi.ExpectProblemAsync(second, HttpStatusCode.Conflict, "max_workers_exceeded");
            Assert.That((long?)problem["limit"], Is.EqualTo(1), "the override lowered the plan's 2 to 1");
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs", tenantId), Is.EqualTo(1), "a refused first run writes nothing");

        await OverrideAsync(3);
        foreach (var worker in new[] { "extractor", "summarizer" })
        {
            using var run = await RunAsync(client, tenantId, worker);
            await TestApi.ExpectAsync(run, HttpStatusCode.Created);
        }
        Assert.That(await EnabledAsync(tenantId), Is.EqualTo(3), "the override raised the cap to 3");
    }
}
