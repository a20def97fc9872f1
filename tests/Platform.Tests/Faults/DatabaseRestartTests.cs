using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Drivers.Schema;

namespace Platform.Tests.Faults;

/// <summary>A PostgreSQL restart under load, on the test's own cluster (never the run's shared database): the API process keeps running, requests
/// during the outage get 503 problem details with Retry-After and never a 500, /readyz says not ready, and full service returns within seconds (ADR 0661).</summary>
[NonParallelizable]
public sealed class DatabaseRestartTests
{
    [Test]
    [CancelAfter(240_000)]
    public async Task A_restart_under_load_is_503_with_retry_after_never_500_and_service_returns_without_restarting_the_api(CancellationToken cancellationToken)
    {
        var database = OwnDatabase.Start();
        try
        {
            await new SchemaMigrator(NullLogger<SchemaMigrator>.Instance).MigrateAsync(database.OwnerConnectionString, cancellationToken);
            await using var api = ServiceProcess.StartApi(ServiceProcess.ApiFolder, new Dictionary<string, string>
            {
                ["ConnectionStrings__Platform"] = database.AppConnectionString + ";Timeout=3;Command Timeout=10",
                // Every request asks the database whether its session is live: the outage reaches every authenticated request.
                ["Accounts__SessionCheckSeconds"] = "0",
            });
            using var client = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(30) };
            await api.WaitUntilServingAsync(client, TimeSpan.FromSeconds(60), cancellationToken);
            var (token, tenantId) = await SignUpWithTenantAsync(client, cancellationToken);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var url = $"/v1/tenants/{tenantId}/usage";
            using (var first = await client.GetAsync(url, cancellationToken))
            {
                Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), await first.Content.ReadAsStringAsync(cancellationToken));
            }

            var answers = new ConcurrentQueue<Answer>();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var sent = clock.Elapsed;
                    try
                    {
                        using var response = await client.GetAsync(url, CancellationToken.None);
                        var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                        answers.Enqueue(new Answer(sent, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                            response.Headers.RetryAfter?.Delta?.TotalSeconds, body));
                    }
                    catch (HttpRequestException e)
                    {
                        answers.Enqueue(new Answer(sent, 0, null, null, e.Message));
                    }
                    await Task.Delay(10, CancellationToken.None);
                }
            }, CancellationToken.None)).ToArray();

            await Task.Delay(1500, cancellationToken);
            database.Pause();
            // From here until Resume is called, PostgreSQL is down.
            var stoppedAt = clock.Elapsed;
            await Task.Delay(3000, cancellationToken);
            // Readiness asks nobody's session: no token (with one, the token check would meet the outage first).
            using var probe = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(30) };
            using var readyDuring = await probe.GetAsync("/readyz", cancellationToken);
            var readyDuringBody = await readyDuring.Content.ReadAsStringAsync(cancellationToken);
            var resuming = clock.Elapsed;
            database.Resume();
            var resumedAt = clock.Elapsed;
            // Full service within seconds: from 5 s after the restart every answer must be a success.
            await Task.Delay(10_000, cancellationToken);
            await stop.CancelAsync();
            await Task.WhenAll(load);
            using var readyAfter = await probe.GetAsync("/readyz", cancellationToken);

            var all = answers.ToList();
            var outage = all.Where(a => a.Sent > stoppedAt && a.Sent < resuming).ToList();
            var failures = all.Where(a => a.Status != 200).ToList();
            var late = all.Where(a => a.Sent > resumedAt + TimeSpan.FromSeconds(5)).ToList();
            TestContext.Out.WriteLine($"{all.Count} requests, {outage.Count} during the outage, {failures.Count} failed, {late.Count} from 5 s after the restart");
            Assert.Multiple(() =>
            {
                Assert.That(api.HasExited, Is.False, "the API process survived:\n" + api.Output);
                Assert.That(all.Where(a => a.Status >= 500 && a.Status != 503 || a.Status == 0), Is.Empty, "never a 500 nor a dropped connection");
                Assert.That(outage, Is.Not.Empty);
                Assert.That(outage.Where(a => a.Status != 503), Is.Empty, "every request while the database was down got 503");
                Assert.That(failures.Where(a => a.MediaType != "application/problem+json" || a.RetryAfterSeconds is not > 0), Is.Empty,
                    "each 503 is problem details with Retry-After");
                Assert.That(failures.Select(a => (string?)JsonNode.Parse(a.Body)?["code"]).Distinct(), Is.EquivalentTo(new[] { "database_unavailable" }));
                Assert.That(readyDuring.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), readyDuringBody);
                Assert.That(readyDuringBody, Does.Contain("not_ready"));
                Assert.That(late, Has.Count.GreaterThan(50));
                Assert.That(late.Where(a => a.Status != 200), Is.Empty, "full service 5 s after the restart");
                Assert.That(readyAfter.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            });
        }
        finally
        {
            database.Stop();
        }
    }

    private static async Task<(string Token, Guid TenantId)> SignUpWithTenantAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var signUp = await client.PostAsJsonAsync("/v1/auth/signup",
            new { email = $"restart-{Guid.NewGuid():N}@example.test", password = "correct horse battery", name = "Restart" }, cancellationToken);
        var user = JsonNode.Parse(await signUp.Content.ReadAsStringAsync(cancellationToken))!;
        Assert.That(signUp.StatusCode, Is.EqualTo(HttpStatusCode.Created), user.ToJsonString());
        var token = (string)user["access_token"]!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tenants")
        {
            Content = JsonContent.Create(new { name = "Restart", slug = "r-" + Guid.NewGuid().ToString("N")[..12], plan = "free" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var created = await client.SendAsync(request, cancellationToken);
        var tenant = JsonNode.Parse(await created.Content.ReadAsStringAsync(cancellationToken))!;
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), tenant.ToJsonString());
        return (token, Guid.Parse((string)tenant["id"]!));
    }

    private sealed record Answer(TimeSpan Sent, int Status, string? MediaType, double? RetryAfterSeconds, string Body);
}
