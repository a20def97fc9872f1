using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Billing;

/// <summary>Proves GET /billing's current_usage (per meter used, included, overage and cost so far in the tenant's currency, equal to the estimate's lines)
/// and quotas (the plan's limits with the operator's overrides on top) (issue 15, ADR 0721).</summary>
public sealed class BillingSummaryUsageTests : DatabaseTest
{
    [Test]
    public async Task Current_usage_and_quotas_follow_the_plan_the_overrides_and_the_estimate()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free"); // 10,000 calls, 10 GB, 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenant, "gpu_hours_per_month", 12);
        await OverrideAsync(tenant, "storage_gb", -1);
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 15.5m, idempotency_key = "g1" },
            new { meter = "api_calls", amount = 2_500, idempotency_key = "a1" },
            new { meter = "api_calls", amount = 10_000, idempotency_key = "a2" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));
        var usage = summary["current_usage"]!.AsArray().ToDictionary(m => (string)m!["meter"]!, m => m!);
        var quotas = summary["quotas"]!;
        var estimate = summary["estimated_cost"]!;

        Assert.Multiple(() =>
        {
            Assert.That(usage.Keys.Take(3), Is.EqualTo(new[] { "api_calls", "storage_gb", "gpu_hours" }));
            Assert.That((decimal?)usage["gpu_hours"]["used"], Is.EqualTo(15.5m));
            Assert.That((decimal?)usage["gpu_hours"]["included"], Is.EqualTo(12m), "the override, not the plan's 5");
            Assert.That((decimal?)usage["gpu_hours"]["overage"], Is.EqualTo(3.5m));
            Assert.That((long?)usage["gpu_hours"]["cost_cents"], Is.EqualTo(875), "3.5 hours × 250 cents");
            Assert.That((string?)usage["gpu_hours"]["currency"], Is.EqualTo("usd"));
            Assert.That((decimal?)usage["api_calls"]["used"], Is.EqualTo(12_500m));
            Assert.That((decimal?)usage["api_calls"]["included"], Is.EqualTo(10_000m));
            Assert.That((decimal?)usage["api_calls"]["overage"], Is.EqualTo(2_500m));
            Assert.That((long?)usage["api_calls"]["cost_cents"], Is.EqualTo(250), "2,500 calls × 0.1 cent");
            Assert.That(usage["storage_gb"]["included"], Is.Null, "unlimited by the override");
            Assert.That((long?)usage["storage_gb"]["cost_cents"], Is.EqualTo(0));
            Assert.That(usage.Values.Sum(m => (long)m["cost_cents"]!), Is.EqualTo((long)estimate["total_cents"]!), "the free plan has no base: costs are the estimate");
            Assert.That((long?)quotas["gpu_hours_per_month"], Is.EqualTo(12));
            Assert.That((long?)quotas["storage_gb"], Is.EqualTo(-1));
            Assert.That((long?)quotas["api_calls_per_month"], Is.EqualTo(10_000));
            Assert.That((long?)quotas["max_workers"], Is.EqualTo(2));
        });
    }

    [Test]
    public async Task A_EUR_tenant_s_costs_carry_EUR_and_another_tenant_s_summary_is_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly", currency = "eur" }), HttpStatusCode.OK);
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/usage/events", new object[] { new { meter = "gpu_hours", amount = 52, idempotency_key = "g" } }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        var stranger = await TestApi.SignUpAsync();

        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));
        using var foreign = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenant}/billing");

        var gpu = summary["current_usage"]!.AsArray().Single(m => (string?)m!["meter"] == "gpu_hours")!;
        Assert.Multiple(() =>
        {
            Assert.That((long?)gpu["cost_cents"], Is.EqualTo(460), "2 hours over Starter's 50 at EUR 2.30 (ADR 0775)");
            Assert.That((string?)gpu["currency"], Is.EqualTo("eur"));
            Assert.That(summary["current_usage"]!.AsArray().Select(m => (string?)m!["currency"]).Distinct(), Is.EqualTo(new[] { "eur" }));
            Assert.That((long?)summary["quotas"]!["gpu_hours_per_month"], Is.EqualTo(50));
            Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(foreign.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        });
    }

    private static async Task OverrideAsync(Guid tenantId, string quota, long value)
    {
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        using var set = await client.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/{quota}", new { value, reason_code = "pilot" });
        await TestApi.ExpectAsync(set, HttpStatusCode.Created);
    }
}
