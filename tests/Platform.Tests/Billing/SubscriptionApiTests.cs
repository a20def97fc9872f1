using System.Net;
using System.Net.Http.Json;
using Platform.Models.Billing;

namespace Platform.Tests.Billing;

/// <summary>Proves offline subscriptions (no Stripe key): the tenant's plan, status and quotas follow the subscription, and the billing summary prices the month.</summary>
public sealed class SubscriptionApiTests : DatabaseTest
{
    [Test]
    public async Task Subscribing_moves_the_tenant_to_the_plan_with_its_quotas_and_active_status()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);

        using var subscribed = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(subscribed, HttpStatusCode.OK);
        var subscription = await TestApi.ReadAsync(subscribed);
        var row = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        Assert.Multiple(() =>
        {
            Assert.That((string?)subscription["plan"], Is.EqualTo("professional"));
            Assert.That((string?)subscription["status"], Is.EqualTo("active"));
            Assert.That((string?)row["plan"], Is.EqualTo("professional"));
            Assert.That((string?)row["status"], Is.EqualTo("active"));
            Assert.That((int?)row["max_workers"], Is.EqualTo(20));
            Assert.That((int?)row["max_api_keys"], Is.EqualTo(20));
        });

        using var again = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "already_subscribed");
    }

    [Test]
    public async Task An_upgrade_applies_now_and_a_downgrade_waits_for_the_period_end()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }), HttpStatusCode.OK);

        var upgraded = await TestApi.ReadAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "enterprise", billing_cycle = "monthly" }));
        var afterUpgrade = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        var downgraded = await TestApi.ReadAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }));
        var afterDowngrade = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));

        Assert.Multiple(() =>
        {
            Assert.That((string?)upgraded["plan"], Is.EqualTo("enterprise"));
            Assert.That((string?)afterUpgrade["plan"], Is.EqualTo("enterprise"));
            Assert.That((int?)afterUpgrade["max_workers"], Is.EqualTo(-1));
            Assert.That((string?)downgraded["plan"], Is.EqualTo("enterprise"));
            Assert.That((string?)downgraded["pending_plan"], Is.EqualTo("starter"));
            Assert.That((string?)afterDowngrade["plan"], Is.EqualTo("enterprise"));
        });
    }

    [Test]
    public async Task Cancelling_now_moves_the_tenant_to_free_and_at_period_end_only_flags_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "annual" }), HttpStatusCode.OK);

        var flagged = await TestApi.ReadAsync(await client.DeleteAsync($"/v1/tenants/{tenant}/subscription?at_period_end=true"));
        var stillPro = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        var cancelled = await TestApi.ReadAsync(await client.DeleteAsync($"/v1/tenants/{tenant}/subscription"));
        var nowFree = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        using var twice = await client.DeleteAsync($"/v1/tenants/{tenant}/subscription");

        Assert.Multiple(() =>
        {
            Assert.That((bool?)flagged["cancel_at_period_end"], Is.True);
            Assert.That((string?)stillPro["plan"], Is.EqualTo("professional"));
            Assert.That((string?)cancelled["status"], Is.EqualTo("canceled"));
            Assert.That((string?)nowFree["plan"], Is.EqualTo("free"));
            Assert.That((int?)nowFree["max_workers"], Is.EqualTo(2));
        });
        await TestApi.ExpectProblemAsync(twice, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Only_owners_subscribe_bad_input_is_named_and_strangers_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var admin = await TestApi.MemberAsync(tenant, "admin");
        var member = await TestApi.MemberAsync(tenant, "member");
        var stranger = await TestApi.SignUpAsync();
        var body = new { plan = "professional", billing_cycle = "monthly" };

        await TestApi.ExpectProblemAsync(await TestApi.Client(admin.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", body), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenant}/billing"), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await TestApi.Client(stranger.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", body), HttpStatusCode.NotFound, "not_found");
        var badPlan = await TestApi.ExpectProblemAsync(
            await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "free", billing_cycle = "weekly" }),
            HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.Multiple(() =>
        {
            Assert.That(badPlan["errors"]!["plan"], Is.Not.Null);
            Assert.That(badPlan["errors"]!["billing_cycle"], Is.Not.Null);
        });

        var row = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}"));
        Assert.That((string?)row["plan"], Is.EqualTo("free"));
    }

    [Test]
    public async Task The_billing_summary_estimates_the_month_line_by_line_from_the_usage_seam()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var admin = await TestApi.MemberAsync(tenant, "admin");
        await TestApi.ExpectAsync(await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var (monthStart, _) = UsagePricing.MonthOf(DateTimeOffset.UtcNow);
        await InsertUsageAsync(tenant, monthStart, ("api_calls", 1_050_000m), ("storage_gb", 1_100m), ("gpu_hours", 210m));
        await InsertUsageAsync(tenant, monthStart.AddMonths(-1), ("gpu_hours", 999m));

        using var response = await TestApi.Client(admin.Token).GetAsync($"/v1/tenants/{tenant}/billing");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var summary = await TestApi.ReadAsync(response);
        var estimate = summary["estimated_cost"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)summary["plan"], Is.EqualTo("professional"));
            Assert.That((string?)summary["subscription"]!["billing_cycle"], Is.EqualTo("monthly"));
            Assert.That(estimate["lines"]!.AsArray().Select(l => (long)l!["amount_cents"]!), Is.EqualTo(new long[] { 19_900, 5_000, 230, 2_500 }));
            Assert.That((long?)estimate["total_cents"], Is.EqualTo(27_630));
            Assert.That((decimal?)estimate["lines"]![2]!["unit_price_cents"], Is.EqualTo(2.3m));
        });
    }

    [Test]
    public async Task Metered_usage_events_flow_into_the_billing_estimate()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await TestApi.ExpectAsync(await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);
        // storage_gb is a level (ADR 0640): 1,100 GB from the month's first moment is 1,100 GB-months.
        var at = UsagePricing.MonthOf(DateTimeOffset.UtcNow).Start;
        var events = new[]
        {
            new { meter = "api_calls", amount = 1_000_000L, idempotency_key = "calls-1", occurred_at = at },
            new { meter = "api_calls", amount = 50_000L, idempotency_key = "calls-2", occurred_at = at },
            new { meter = "storage_gb", amount = 1_100L, idempotency_key = "storage-1", occurred_at = at },
            new { meter = "gpu_hours", amount = 210L, idempotency_key = "gpu-1", occurred_at = at },
            new { meter = "gpu_hours", amount = 210L, idempotency_key = "gpu-1", occurred_at = at },
        };
        using var ingest = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/usage/events", events);
        Assert.That((int)ingest.StatusCode, Is.InRange(200, 299), await ingest.Content.ReadAsStringAsync());

        var summary = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/billing"));
        Assert.That((long?)summary["estimated_cost"]!["total_cents"], Is.EqualTo(27_630), "the repeated gpu-1 event counts once");
    }

    private static async Task InsertUsageAsync(Guid tenant, DateTimeOffset periodStart, params (string Meter, decimal Quantity)[] rows)
    {
        await using var scope = await TenantScope.OwnerAsync(tenant);
        foreach (var (meter, quantity) in rows)
        {
            await scope.ExecuteAsync("INSERT INTO billing_usage_inputs (tenant_id, period_start, meter, quantity) VALUES (@t, @p, @m, @q)",
                ("t", tenant), ("p", periodStart), ("m", meter), ("q", quantity));
        }
        await scope.CommitAsync();
    }
}
