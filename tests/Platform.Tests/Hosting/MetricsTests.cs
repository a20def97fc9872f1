using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Hosting;

/// <summary>Scrapes /metrics (OpenTelemetry's Prometheus exporter): open to loopback, otherwise only with Metrics:ScrapeToken; HTTP server and
/// engine series are there, and quota_exceeded_total{meter} counts a refusal (ADR 0584).</summary>
public sealed partial class MetricsTests : DatabaseTest
{
    private const string Token = "scrape-token-0123456789abcdef";

    [Test]
    [CancelAfter(90_000)]
    public async Task Loopback_scrapes_prometheus_text_with_the_http_server_series(CancellationToken cancellationToken)
    {
        await using var api = ServiceProcess.StartApi(ServiceProcess.ApiFolder);
        using var client = new HttpClient { BaseAddress = api.Url };
        await api.WaitUntilServingAsync(client, TimeSpan.FromSeconds(45), cancellationToken);
        using (await client.GetAsync("/v1/plans", cancellationToken))
        {
        }

        using var response = await client.GetAsync("/metrics", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(text, Does.Contain("# TYPE http_server_request_duration_seconds histogram"));
            Assert.That(text, Does.Match("http_server_request_duration_seconds_count\\{[^}]*http_route=\"/v1/plans\""));
            Assert.That(text, Does.Contain("dotnet_gc_collections_total").Or.Contain("process_runtime_dotnet"), "runtime series");
        });
        var (exitCode, problems) = await PromtoolCheckAsync(text, cancellationToken);
        // 0: clean; 3: lint remarks; 1: the exposition does not parse. The semantic conventions' names of Npgsql (db.client.connection.count)
        // and of the .NET runtime (dotnet.thread_pool.thread.count, ...) draw promtool's "_count suffix" remark; every other series must be clean.
        var remarks = problems.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(0).Or.EqualTo(3), "promtool check metrics: " + problems);
            // Seed 003's gpu_hours_total keeps the seed's name, hours and all, which draws the base-unit remark (ADR 0660); nothing else of ours may.
            Assert.That(remarks.Where(r => !r.StartsWith("db_client_", StringComparison.Ordinal) && !r.StartsWith("dotnet_", StringComparison.Ordinal)
                && r != "gpu_hours_total use base unit \"seconds\" instead of \"hours\""), Is.Empty, "promtool check metrics: " + problems);
        });
    }

    /// <summary>Runs `promtool check metrics` (Debian's prometheus package, installed by ./platform test) on the exposition.</summary>
    private static async Task<(int ExitCode, string Output)> PromtoolCheckAsync(string exposition, CancellationToken cancellationToken)
    {
        var start = new System.Diagnostics.ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output + await errors);
    }

    [Test]
    public async Task Off_loopback_a_scrape_needs_the_scrape_token()
    {
        // The in-process test server has no remote address, as a scraper on another machine is not loopback.
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Metrics:ScrapeToken", Token));
        using var client = factory.CreateClient();

        using var anonymous = await client.GetAsync("/metrics");
        using var wrong = await Scrape(client, "not-the-token-0123456789");
        using var right = await Scrape(client, Token);

        Assert.Multiple(() =>
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(anonymous.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task A_quota_refusal_is_counted_by_quota()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Metrics:ScrapeToken", Token));
        using var client = factory.CreateClient();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
        for (var i = 0; i < 2; i++)
        {
            using var created = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = $"k{i}", permissions = new[] { "runs:read" } });
            await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        }
        var before = await CounterAsync(client, "max_api_keys");

        using (var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "third", permissions = new[] { "runs:read" } }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((string?)problem["quota"], Is.EqualTo("max_api_keys"));
        }
        var after = await CounterAsync(client, "max_api_keys");

        Assert.That(after - before, Is.EqualTo(1));
    }

    [Test]
    public async Task Admission_latency_is_a_histogram_and_ingested_usage_events_are_counted_by_outcome()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Metrics:ScrapeToken", Token));
        using var client = factory.CreateClient();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
        var admittedBefore = await SeriesAsync(client, "run_admission_duration_seconds_count", "outcome=\"admitted\"");
        var acceptedBefore = await SeriesAsync(client, "usage_events_ingested_total", "outcome=\"accepted\"");
        var duplicateBefore = await SeriesAsync(client, "usage_events_ingested_total", "outcome=\"duplicate\"");

        // Other tests of this process may admit runs and ingest events at the same time (the meter is the process's), so the deltas are
        // at least what this test did; without the instruments they would stay 0.
        for (var i = 0; i < 2; i++)
        {
            await Platform.Tests.Runs.Runs.CreateRunAsync(client, tenantId);
        }
        var batch = new object[]
        {
            new { meter = "api_calls", amount = 1, idempotency_key = "m-1" },
            new { meter = "api_calls", amount = 1, idempotency_key = "m-2" },
            new { meter = "api_calls", amount = 1, idempotency_key = "m-3" },
        };
        for (var i = 0; i < 2; i++)
        {
            using var recorded = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", batch);
            await TestApi.ExpectAsync(recorded, HttpStatusCode.OK);
        }

        using var response = await Scrape(client, Token);
        var text = await response.Content.ReadAsStringAsync();
        var admittedAfter = await SeriesAsync(client, "run_admission_duration_seconds_count", "outcome=\"admitted\"");
        var acceptedAfter = await SeriesAsync(client, "usage_events_ingested_total", "outcome=\"accepted\"");
        var duplicateAfter = await SeriesAsync(client, "usage_events_ingested_total", "outcome=\"duplicate\"");
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("# TYPE run_admission_duration_seconds histogram"));
            Assert.That(text, Does.Match("run_admission_duration_seconds_bucket\\{[^}]*le=\"0.05\""), "the 50 ms goal is a bucket boundary");
            Assert.That(text, Does.Contain("# TYPE usage_events_ingested_total counter"));
            Assert.That(admittedAfter - admittedBefore, Is.GreaterThanOrEqualTo(2));
            Assert.That(acceptedAfter - acceptedBefore, Is.GreaterThanOrEqualTo(3));
            Assert.That(duplicateAfter - duplicateBefore, Is.GreaterThanOrEqualTo(3));
        });
    }

    /// <summary>Reads the value of the first line of a series whose labels contain the given label (0 when there is none yet).</summary>
    private static async Task<double> SeriesAsync(HttpClient client, string name, string label)
    {
        using var response = await Scrape(client, Token);
        var text = await response.Content.ReadAsStringAsync();
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l[..l.IndexOf('}', StringComparison.Ordinal)].Contains(label, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task The_job_lag_gauges_follow_the_outbox_from_the_database()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Metrics:ScrapeToken", Token);
            b.UseSetting("Metrics:GaugeCacheMilliseconds", "0");
        });
        using var client = factory.CreateClient();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
        var before = await GaugeAsync(client, "job_outbox_pending");

        // The jobs do not run in the tests' hosts: the invitation's email stays pending in the outbox.
        using (var invited = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "lag@example.test", role = "member" }))
        {
            await TestApi.ExpectAsync(invited, HttpStatusCode.Created);
        }
        var after = await GaugeAsync(client, "job_outbox_pending");
        var oldest = await GaugeAsync(client, "job_outbox_oldest_due_seconds");

        Assert.Multiple(() =>
        {
            Assert.That(before, Is.Not.Null, "the gauge is exported");
            Assert.That(after - before, Is.EqualTo(1));
            Assert.That(oldest, Is.GreaterThanOrEqualTo(0));
        });
    }

    private static async Task<double?> GaugeAsync(HttpClient client, string name)
    {
        using var response = await Scrape(client, Token);
        var text = await response.Content.ReadAsStringAsync();
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task<double> CounterAsync(HttpClient client, string meter)
    {
        using var response = await Scrape(client, Token);
        var text = await response.Content.ReadAsStringAsync();
        var match = text.Split('\n').Select(l => QuotaLine().Match(l)).FirstOrDefault(m => m.Success && m.Groups["labels"].Value.Contains($"meter=\"{meter}\"", StringComparison.Ordinal));
        return match is null ? 0 : double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
    }

    private static Task<HttpResponseMessage> Scrape(HttpClient client, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    [GeneratedRegex("^quota_exceeded_total\\{(?<labels>[^}]*)\\} (?<value>\\S+)")]
    private static partial Regex QuotaLine();
}
