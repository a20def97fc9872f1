using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Runs;

/// <summary>max_workers caps the workers a tenant has enabled: exact under parallel enables, and an operator's override moves the cap (ADR 0716).</summary>
public sealed class MaxWorkersTests : DatabaseTest
{
    private static readonly string[] Seeded = ["classifier", "extractor", "researcher", "summarizer"];

    private static Task<long> EnabledAsync(Guid tenantId) =>
        OwnerSql.CountAsync("SELECT count(*) FROM worker_configs WHERE enabled", tenantId);

    [Test]
    public async Task Parallel_enables_of_four_workers_on_a_two_worker_plan_leave_exactly_two_enabled_and_name_the_quota()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // max_workers 2
        var client = TestApi.Client(owner.Token);

        // Five enables of each seeded worker, all at once.
        var attempts = Enumerable.Range(0, 20).Select(i => (Worker: Seeded[i % 4], Response: client.PutAsJsonAsync(
            $"/v1/tenants/{tenantId}/workers/{Seeded[i % 4]}/config", new { enabled = true }))).ToList();
        await Task.WhenAll(attempts.Select(a => a.Response));
        var byWorker = attempts.GroupBy(a => a.Worker).ToDictionary(g => g.Key, g => g.Select(a => a.Response.Result.StatusCode).ToList());
        var admitted = byWorker.Where(w => w.Value.Contains(HttpStatusCode.OK)).Select(w => w.Key).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(admitted, Has.Count.EqualTo(2));
            Assert.That(byWorker.Where(w => !admitted.Contains(w.Key)).SelectMany(w => w.Value), Is.All.EqualTo(HttpStatusCode.Conflict));
            Assert.That(byWorker.Where(w => admitted.Contains(w.Key)).SelectMany(w => w.Value), Is.All.EqualTo(HttpStatusCode.OK),
                "a worker once enabled is enabled again without a slot");
            Assert.That(await EnabledAsync(tenantId), Is.EqualTo(2));
        });
        var refused = attempts.First(a => a.Response.Result.StatusCode == HttpStatusCode.Conflict).Response.Result;
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "max_workers_exceeded");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("max_workers"));
            Assert.That((long?)problem["limit"], Is.EqualTo(2));
            Assert.That((long?)problem["current"], Is.EqualTo(2));
        });

        // Disabling is never refused and frees the slot; a refused enable wrote nothing.
        var third = Seeded.Except(admitted).First();
        using (var disable = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{admitted[0]}/config", new { enabled = false }))
        {
            await TestApi.ExpectAsync(disable, HttpStatusCode.OK);
        }
        using (var enable = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{third}/config", new { enabled = true }))
        {
            await TestApi.ExpectAsync(enable, HttpStatusCode.OK);
        }
        Assert.That(await EnabledAsync(tenantId), Is.EqualTo(2));
        foreach (var attempt in attempts)
        {
            attempt.Response.Result.Dispose();
        }
    }

    [Test]
    public async Task An_operators_override_of_max_workers_moves_the_cap_both_ways()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // max_workers 2
        var client = TestApi.Client(owner.Token);
        var (_, operatorClient) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        async Task OverrideAsync(long value)
        {
            using var set = await operatorClient.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/max_workers", new { value, reason_code = "pilot" });
            Assert.That(set.StatusCode, Is.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.OK));
        }
        async Task<HttpStatusCode> EnableAsync(string worker)
        {
            using var response = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{worker}/config", new { enabled = true });
            return response.StatusCode;
        }

        await OverrideAsync(3);
        Assert.That(await EnableAsync("classifier"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await EnableAsync("extractor"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await EnableAsync("researcher"), Is.EqualTo(HttpStatusCode.OK), "the override raised the plan's 2 to 3");
        using (var fourth = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/summarizer/config", new { enabled = true }))
        {
            var problem = await TestApi.ExpectProblemAsync(fourth, HttpStatusCode.Conflict, "max_workers_exceeded");
            Assert.That((long?)problem["limit"], Is.EqualTo(3));
        }

        await OverrideAsync(1);
        using (var disable = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/researcher/config", new { enabled = false }))
        {
            await TestApi.ExpectAsync(disable, HttpStatusCode.OK);
        }
        // Two remain enabled above a cap of one: nothing is switched off, but no worker is enabled again until the tenant is under it.
        Assert.That(await EnableAsync("researcher"), Is.EqualTo(HttpStatusCode.Conflict), "the override lowered the cap to 1");
        await OverrideAsync(-1);
        Assert.That(await EnableAsync("researcher"), Is.EqualTo(HttpStatusCode.OK), "unlimited");
        Assert.That(await EnableAsync("summarizer"), Is.EqualTo(HttpStatusCode.OK), "unlimited");
        Assert.That(await EnabledAsync(tenantId), Is.EqualTo(4));
    }
}
