using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Usage;

/// <summary>Proves, one test per quota, that an operator's override set over the operator API changes the admission it names at once (ADR 0562):
/// concurrent runs, runs per day, tokens per month, and the GPU hours and API calls limits of the quota check route and the hard ingestion (ADR 0710).
/// The seat, summary, alert, invoice, credit grant and retention overrides are proven by <see cref="QuotaOverridesBiteTests"/>.</summary>
public sealed class QuotaOverridesAdmissionTests : DatabaseTest
{
    private static async Task OverrideAsync(Guid tenantId, string quota, long value)
    {
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        using var set = await client.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/{quota}", new { value, reason_code = "pilot" });
        Assert.That(set.StatusCode, Is.AnyOf(HttpStatusCode.Created, HttpStatusCode.OK), await set.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNodeProblem> RefusedRunAsync(HttpClient client, Guid tenantId)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "over", input = new { text = "x" } });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.TooManyRequests, "quota_exceeded");
        return new JsonNodeProblem((string?)problem["quota"], (long?)problem["limit"]);
    }

    private sealed record JsonNodeProblem(string? Quota, long? Limit);

    [Test]
    public async Task A_max_concurrent_runs_override_admits_exactly_its_value_of_runs_at_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "max_concurrent_runs", 3);

        var admitted = await RunCalls.CreateManyAsync(client, tenantId, 20);
        Assert.That(admitted.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(3));
        Assert.That(await RefusedRunAsync(client, tenantId), Is.EqualTo(new JsonNodeProblem("max_concurrent_runs", 3)));

        await OverrideAsync(tenantId, "max_concurrent_runs", 4);
        await RunCalls.CreateRunAsync(client, tenantId);
        Assert.That(await RefusedRunAsync(client, tenantId), Is.EqualTo(new JsonNodeProblem("max_concurrent_runs", 4)));
    }

    [Test]
    public async Task A_max_runs_per_day_override_refuses_the_run_past_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "max_runs_per_day", 2);

        var admitted = await RunCalls.CreateManyAsync(client, tenantId, 20);
        Assert.That(admitted.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(2));
        Assert.That(await RefusedRunAsync(client, tenantId), Is.EqualTo(new JsonNodeProblem("max_runs_per_day", 2)));
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_max_tokens_per_month_override_refuses_admission_once_its_tokens_are_spent()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "max_tokens_per_month", 150);

        var first = await RunCalls.CreateRunAsync(client, tenantId);
        await TestApi.ExpectAsync(await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)first["id"]!), tokens: 100), HttpStatusCode.OK);
        var second = await RunCalls.CreateRunAsync(client, tenantId); // 100 of 150 spent: still admitted
        await TestApi.ExpectAsync(await RunCalls.CompleteAsync(client, tenantId, Guid.Parse((string)second["id"]!), tokens: 100), HttpStatusCode.OK);
        Assert.That(await RefusedRunAsync(client, tenantId), Is.EqualTo(new JsonNodeProblem("max_tokens_per_month", 150)));

        await OverrideAsync(tenantId, "max_tokens_per_month", -1);
        await RunCalls.CreateRunAsync(client, tenantId);
    }

    [Test]
    public async Task A_gpu_hours_override_decides_the_quota_check_route_and_the_hard_ingestion()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours on the plan
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);
        await OverrideAsync(tenantId, "gpu_hours_per_month", 1);

        using (var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 1.5m }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((long?)problem["limit"], Is.EqualTo(1));
        }
        using (var over = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount = 1.25m, idempotency_key = "a" } }))
        {
            var problem = await TestApi.ExpectProblemAsync(over, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((long?)problem["limit"], Is.EqualTo(1));
        }

        await OverrideAsync(tenantId, "gpu_hours_per_month", 10);
        using (var allowed = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 7.5m }))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
            Assert.That((long?)(await TestApi.ReadAsync(allowed))["limit"], Is.EqualTo(10));
        }
        using var accepted = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount = 7.5m, idempotency_key = "b" } });
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
    }

    [Test]
    public async Task An_api_calls_override_decides_the_quota_check_route_and_the_hard_ingestion()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 10,000 calls on the plan
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/api_calls", new { policy = "hard" }), HttpStatusCode.OK);
        await OverrideAsync(tenantId, "api_calls_per_month", 1_000_000);

        using (var allowed = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "api_calls", amount = 50_000, reserve = true }))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
            Assert.That((long?)(await TestApi.ReadAsync(allowed))["limit"], Is.EqualTo(1_000_000));
        }
        await OverrideAsync(tenantId, "api_calls_per_month", 50_010);
        using var over = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "api_calls", amount = 11, idempotency_key = "a" } });
        var problem = await TestApi.ExpectProblemAsync(over, HttpStatusCode.TooManyRequests, "quota_exceeded");
        Assert.That((long?)problem["limit"], Is.EqualTo(50_010));
        Assert.That((decimal?)problem["reserved"], Is.EqualTo(50_000m));
    }
}
