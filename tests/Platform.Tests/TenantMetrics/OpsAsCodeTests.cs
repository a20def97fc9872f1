using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.TenantMetrics;

/// <summary>The alerting rules, the Prometheus configuration and the Grafana dashboard in ops/ (ADR 0660): promtool checks and unit-tests the rules
/// (quota 80/90/100 %, error rate, job lag, database down), and every series they and the dashboard query is one the service exports.</summary>
public sealed partial class OpsAsCodeTests : DatabaseTest
{
    private const string Token = "scrape-token-0123456789abcdef";

    private static string Prometheus => Path.Combine(ServiceProcess.RepositoryRoot, "ops", "prometheus");

    private static string Dashboard => Path.Combine(ServiceProcess.RepositoryRoot, "ops", "grafana", "platform-dashboard.json");

    [Test]
    public async Task Promtool_checks_the_rules_and_the_configuration_and_the_rules_unit_tests_pass()
    {
        var rules = await Promtool.RunAsync(["check", "rules", "alerts.yml"], workingDirectory: Prometheus);
        var config = await Promtool.RunAsync(["check", "config", "prometheus.yml"], workingDirectory: Prometheus);
        var unit = await Promtool.RunAsync(["test", "rules", "alerts.test.yml"], workingDirectory: Prometheus);
        var text = await File.ReadAllTextAsync(Path.Combine(Prometheus, "alerts.yml"));

        Assert.Multiple(() =>
        {
            Assert.That(rules.ExitCode, Is.EqualTo(0), rules.Output);
            Assert.That(rules.Output, Does.Contain("SUCCESS: 8 rules found"));
            Assert.That(config.ExitCode, Is.EqualTo(0), config.Output);
            Assert.That(unit.ExitCode, Is.EqualTo(0), unit.Output);
            foreach (var alert in new[] { "TenantQuotaAt80Percent", "TenantQuotaAt90Percent", "TenantQuotaExhausted", "PlatformHighErrorRate", "PlatformJobLag", "PlatformDatabaseDown" })
            {
                Assert.That(text, Does.Contain("alert: " + alert + "\n"));
            }
        });
    }

    [Test]
    public async Task A_rule_that_does_not_parse_fails_the_check()
    {
        // The check must be able to fail: a broken copy of the rules is refused.
        var folder = Directory.CreateTempSubdirectory("platform-rules.").FullName;
        try
        {
            var broken = (await File.ReadAllTextAsync(Path.Combine(Prometheus, "alerts.yml"))).Replace("tenant_quota_usage_percent >= 100", "tenant_quota_usage_percent >=", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(folder, "alerts.yml"), broken);
            var rules = await Promtool.RunAsync(["check", "rules", "alerts.yml"], workingDirectory: folder);
            Assert.That(rules.ExitCode, Is.Not.EqualTo(0), rules.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Every_series_the_rules_and_the_dashboard_query_is_exported_by_the_service()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Metrics:ScrapeToken", Token);
            b.UseSetting("Metrics:GaugeCacheMilliseconds", "0");
            b.UseSetting("TenantMetrics:CacheMilliseconds", "0");
        });
        using var client = factory.CreateClient();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
        using (var usage = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount = 4.5m, idempotency_key = "g" } }))
        {
            await TestApi.ExpectAsync(usage, HttpStatusCode.OK);
        }
        // A quota refusal, so that quota_exceeded_total has a sample.
        for (var i = 0; i < 3; i++)
        {
            using var created = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = $"k{i}", permissions = new[] { "runs:read" } });
        }
        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in new[] { "/metrics", "/metrics/tenants" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
            exported.UnionWith(text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SampleName().Match(l).Value));
        }

        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Dashboard))!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray().Select(t => (string)t!["expr"]!)).ToList();
        var rules = await File.ReadAllTextAsync(Path.Combine(Prometheus, "alerts.yml"));
        var queried = expressions.Append(rules).SelectMany(e => QueriedName().Matches(e).Select(m => m.Groups["name"].Value))
            .Where(n => n != "up").ToHashSet(StringComparer.Ordinal);

        Assert.Multiple(() =>
        {
            Assert.That(dashboard["panels"]!.AsArray(), Has.Count.GreaterThanOrEqualTo(10));
            Assert.That(queried, Is.SupersetOf(new[] { "tenant_quota_usage_percent", "tenants_at_quota_percent", "database_up", "job_outbox_oldest_due_seconds" }));
            Assert.That(queried.Where(n => !exported.Contains(n)), Is.Empty, "queried but not exported; exported: " + string.Join(", ", exported.Order()));
        });
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SampleName();

    /// <summary>Matches a series selector's metric name: a name directly followed by its label matchers.</summary>
    [GeneratedRegex("(?<![a-zA-Z0-9_])(?<name>[a-z_][a-z0-9_]*)\\{")]
    private static partial Regex QueriedName();
}
