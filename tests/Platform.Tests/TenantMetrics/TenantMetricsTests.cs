using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Tests.Operators;

namespace Platform.Tests.TenantMetrics;

/// <summary>Seed 003's series (ADR 0660): per plan on /metrics (the highest share of a quota, the tenants at 80/90/100 %, the all-time GPU hours and
/// costs), per tenant only on /metrics/tenants and only for the top tenants per meter; operator overrides count; both pass promtool.</summary>
public sealed class TenantMetricsTests : DatabaseTest
{
    private const string Token = "scrape-token-0123456789abcdef";

    [Test]
    public async Task Per_plan_series_count_the_tenants_at_each_threshold_and_total_the_gpu_hours_and_costs()
    {
        await using var factory = Host(topTenants: 2);
        using var client = factory.CreateClient();
        // Free plan: 5 GPU hours and 10,000 API calls a month. a: 4.5 h (90 %), b: 5.5 h (110 %), c: 1 h (20 %) and 8,000 calls (80 %).
        var a = await TenantWithUsageAsync(("gpu_hours", 4.5m));
        var b = await TenantWithUsageAsync(("gpu_hours", 5.5m));
        var c = await TenantWithUsageAsync(("gpu_hours", 1m), ("api_calls", 8000m));

        var text = await ScrapeAsync(client, "/metrics");

        Assert.Multiple(() =>
        {
            Assert.That(Value(text, "tenant_quota_usage_percent_max", "plan=\"free\"", "meter=\"gpu_hours\""), Is.EqualTo(110));
            Assert.That(Value(text, "tenant_quota_usage_percent_max", "plan=\"free\"", "meter=\"api_calls\""), Is.EqualTo(80));
            Assert.That(Value(text, "tenants_at_quota_percent", "plan=\"free\"", "meter=\"gpu_hours\"", "at_least=\"80\""), Is.EqualTo(2));
            Assert.That(Value(text, "tenants_at_quota_percent", "plan=\"free\"", "meter=\"gpu_hours\"", "at_least=\"90\""), Is.EqualTo(2));
            Assert.That(Value(text, "tenants_at_quota_percent", "plan=\"free\"", "meter=\"gpu_hours\"", "at_least=\"100\""), Is.EqualTo(1));
            Assert.That(Value(text, "tenants_at_quota_percent", "plan=\"free\"", "meter=\"api_calls\"", "at_least=\"80\""), Is.EqualTo(1));
            Assert.That(Value(text, "tenants_at_quota_percent", "plan=\"free\"", "meter=\"api_calls\"", "at_least=\"90\""), Is.EqualTo(0));
            Assert.That(Value(text, "gpu_hours_total"), Is.EqualTo(11));
            // 11 h x $2.50 + 8,000 calls x $0.001.
            Assert.That(Value(text, "api_calls_cost_usd_total"), Is.EqualTo(8));
            Assert.That(Value(text, "tenant_costs_usd_total"), Is.EqualTo(35.5));
            Assert.That(Value(text, "storage_cost_usd_total"), Is.EqualTo(0));
            Assert.That(text, Does.Not.Contain(a.ToString()).And.Not.Contain(b.ToString()).And.Not.Contain(c.ToString()), "no tenant id on /metrics");
        });

        var tenants = await ScrapeAsync(client, "/metrics/tenants");
        Assert.Multiple(() =>
        {
            // Top 2 per meter: b and a for GPU hours, c alone for API calls; c's 20 % of GPU hours is left out.
            Assert.That(Value(tenants, "tenant_quota_usage_percent", $"tenant_id=\"{b}\"", "meter=\"gpu_hours\""), Is.EqualTo(110));
            Assert.That(Value(tenants, "tenant_quota_usage_percent", $"tenant_id=\"{a}\"", "meter=\"gpu_hours\""), Is.EqualTo(90));
            Assert.That(Value(tenants, "tenant_quota_usage_percent", $"tenant_id=\"{c}\"", "meter=\"api_calls\""), Is.EqualTo(80));
            Assert.That(Value(tenants, "tenant_quota_usage_percent", $"tenant_id=\"{c}\"", "meter=\"gpu_hours\""), Is.Null);
            Assert.That(Value(tenants, "tenant_quota_used", $"tenant_id=\"{b}\"", "meter=\"gpu_hours\""), Is.EqualTo(5.5));
            Assert.That(Value(tenants, "tenant_quota_limit", $"tenant_id=\"{b}\"", "meter=\"gpu_hours\""), Is.EqualTo(5));
        });
    }

    [Test]
    public async Task An_operator_override_is_the_quota_the_percentage_is_taken_of()
    {
        await using var factory = Host(topTenants: 10);
        using var client = factory.CreateClient();
        var tenantId = await TenantWithUsageAsync(("gpu_hours", 5m));
        var (_, operatorClient) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        using (var set = await operatorClient.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/gpu_hours_per_month",
            new { value = 20, reason_code = "pilot", reason_note = "more GPU" }))
        {
            await TestApi.ExpectAsync(set, HttpStatusCode.Created);
        }

        var tenants = await ScrapeAsync(client, "/metrics/tenants");

        Assert.Multiple(() =>
        {
            Assert.That(Value(tenants, "tenant_quota_usage_percent", $"tenant_id=\"{tenantId}\"", "meter=\"gpu_hours\""), Is.EqualTo(25));
            Assert.That(Value(tenants, "tenant_quota_limit", $"tenant_id=\"{tenantId}\"", "meter=\"gpu_hours\""), Is.EqualTo(20));
        });
    }

    [Test]
    public async Task Off_loopback_the_tenant_list_needs_the_scrape_token()
    {
        await using var factory = Host(topTenants: 10);
        using var client = factory.CreateClient();

        using var anonymous = await client.GetAsync("/metrics/tenants");
        using var right = await SendAsync(client, "/metrics/tenants");

        Assert.Multiple(() =>
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(anonymous.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Both_scrapes_pass_promtool_check_metrics_cleanly()
    {
        await using var factory = Host(topTenants: 10);
        using var client = factory.CreateClient();
        await TenantWithUsageAsync(("gpu_hours", 4.5m), ("api_calls", 9500m), ("storage_gb", 10.5m));

        var tenants = await ScrapeAsync(client, "/metrics/tenants");
        var (tenantsExit, tenantsOutput) = await Promtool.RunAsync(["check", "metrics"], tenants);
        var metrics = await ScrapeAsync(client, "/metrics");
        var (_, metricsOutput) = await Promtool.RunAsync(["check", "metrics"], metrics);
        var ours = metricsOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(r => r.StartsWith("tenant", StringComparison.Ordinal) || r.Contains("cost_usd", StringComparison.Ordinal) || r.StartsWith("gpu_hours", StringComparison.Ordinal))
            // Seed 003's name says hours; promtool would have seconds (ADR 0660). Every other remark about these series fails the test.
            .Where(r => r != "gpu_hours_total use base unit \"seconds\" instead of \"hours\"");

        Assert.Multiple(() =>
        {
            Assert.That(tenantsExit, Is.EqualTo(0), tenantsOutput);
            Assert.That(ours, Is.Empty, metricsOutput);
            Assert.That(metrics, Does.Contain("# TYPE gpu_hours_total counter"));
            Assert.That(metrics, Does.Contain("# TYPE tenant_quota_usage_percent_max gauge"));
        });
    }

    private static WebApplicationFactory<Program> Host(int topTenants) => new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
    {
        b.UseSetting("Metrics:ScrapeToken", Token);
        b.UseSetting("TenantMetrics:CacheMilliseconds", "0");
        b.UseSetting("TenantMetrics:TopTenants", topTenants.ToString(CultureInfo.InvariantCulture));
    });

    private static async Task<Guid> TenantWithUsageAsync(params (string Meter, decimal Amount)[] usage)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
            usage.Select((u, i) => new { meter = u.Meter, amount = u.Amount, idempotency_key = $"m-{i}" }).ToArray());
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return tenantId;
    }

    private static async Task<string> ScrapeAsync(HttpClient client, string path)
    {
        using var response = await SendAsync(client, path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        return text;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client.SendAsync(request);
    }

    /// <summary>Reads the value of the one sample of the series whose labels contain every given pair, or null when there is none.</summary>
    private static double? Value(string exposition, string name, params string[] labels)
    {
        var line = exposition.Split('\n').FirstOrDefault(l =>
            (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            && labels.All(label => l.Contains(label, StringComparison.Ordinal)));
        if (line is null)
        {
            return null;
        }
        // The OpenTelemetry exporter may add a timestamp after the value.
        var parts = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ');
        return double.Parse(parts[0], CultureInfo.InvariantCulture);
    }
}
