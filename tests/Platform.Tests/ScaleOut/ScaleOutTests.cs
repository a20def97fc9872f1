using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.ScaleOut;

/// <summary>Scale-out on one database with real processes (ADR 0663): two API processes share a key's rate limit and its concurrency limit exactly,
/// a key revoked on one is refused by the other within a second, and two Worker processes send each queued email exactly once.</summary>
[NonParallelizable]
public sealed class ScaleOutTests : DatabaseTest
{
    [Test]
    [CancelAfter(240_000)]
    public async Task Two_api_processes_hold_a_keys_rate_limit_and_concurrency_limit_exactly_and_see_a_revocation_within_a_second(CancellationToken cancellationToken)
    {
        await using var a = ServiceProcess.StartApi(ServiceProcess.ApiFolder);
        await using var b = ServiceProcess.StartApi(ServiceProcess.ApiFolder);
        using var clientA = new HttpClient { BaseAddress = a.Url, Timeout = TimeSpan.FromSeconds(60) };
        using var clientB = new HttpClient { BaseAddress = b.Url, Timeout = TimeSpan.FromSeconds(60) };
        await Task.WhenAll(a.WaitUntilServingAsync(clientA, TimeSpan.FromSeconds(90), cancellationToken), b.WaitUntilServingAsync(clientB, TimeSpan.FromSeconds(90), cancellationToken));
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1).CreateAsync();

        // Rate limit: 20 a minute, 80 parallel requests split over both processes.
        var limited = await Keys.CreateAsync(owner.Token, tenantId, rateLimitRpm: 20);
        var reads = await Task.WhenAll(Enumerable.Range(0, 80).Select(i =>
            StatusAsync(i % 2 == 0 ? clientA : clientB, HttpMethod.Get, $"/v1/tenants/{tenantId}/usage", limited.Secret, null)));

        // Concurrency: a key with at most 5 active runs, 100 parallel creates split over both processes.
        var runner = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId, maxConcurrentRuns: 5);
        var creates = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            StatusAsync(i % 2 == 0 ? clientA : clientB, HttpMethod.Post, $"/v1/tenants/{tenantId}/runs", runner.Secret,
                new { worker_id = "summarizer", task = $"task {i}", input = new { text = "hello" } })));

        // Revocation: both processes have used the key; it is revoked through A, and B must refuse it within a second.
        var revoked = await Keys.CreateAsync(owner.Token, tenantId);
        Assert.That(await StatusAsync(clientA, HttpMethod.Get, $"/v1/tenants/{tenantId}/usage", revoked.Secret, null), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusAsync(clientB, HttpMethod.Get, $"/v1/tenants/{tenantId}/usage", revoked.Secret, null), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusAsync(clientA, HttpMethod.Delete, $"/v1/tenants/{tenantId}/api-keys/{revoked.Id}", owner.Token, null), Is.EqualTo(HttpStatusCode.NoContent).Or.EqualTo(HttpStatusCode.OK));
        var sinceRevoke = Stopwatch.StartNew();
        HttpStatusCode last;
        do
        {
            last = await StatusAsync(clientB, HttpMethod.Get, $"/v1/tenants/{tenantId}/usage", revoked.Secret, null);
            if (last == HttpStatusCode.Unauthorized)
            {
                break;
            }
            await Task.Delay(20, cancellationToken);
        }
        while (sinceRevoke.Elapsed < TimeSpan.FromSeconds(5));
        var refusedAfter = sinceRevoke.Elapsed;

        TestContext.Out.WriteLine($"revoked key refused by the other process after {refusedAfter.TotalMilliseconds:F0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(reads.Count(s => s == HttpStatusCode.OK), Is.EqualTo(20), "rate limit across processes");
            Assert.That(reads.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(60));
            Assert.That(creates.Count(s => s == HttpStatusCode.Created), Is.EqualTo(5), "concurrency limit across processes");
            Assert.That(creates.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(95));
            Assert.That(last, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(refusedAfter, Is.LessThan(TimeSpan.FromSeconds(1)), "the other process refuses a revoked key within a second");
        });
    }

    [Test]
    [CancelAfter(240_000)]
    public async Task Two_worker_processes_send_each_queued_email_exactly_once(CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("platform-scaleout-mail.").FullName;
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["Email__PickupDirectory"] = folder,
                ["Email__PollIntervalMilliseconds"] = "100",
                ["Email__BatchSize"] = "3",
            };
            await using var first = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
            await using var second = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
            var owner = await TestApi.SignUpAsync();
            var tenantId = await TestApi.CreateTenantAsync(owner, plan: "professional");
            var client = TestApi.Client(owner.Token);
            const int invitations = 40;
            await Task.WhenAll(Enumerable.Range(0, invitations).Select(async i =>
            {
                using var invited = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = $"scale{i}@example.test", role = "member" }, cancellationToken);
                await TestApi.ExpectAsync(invited, HttpStatusCode.Created);
            }));

            var deadline = Stopwatch.StartNew();
            while (Invitations(folder).Count < invitations && deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                Assert.That(first.HasExited || second.HasExited, Is.False, first.Output + "\n" + second.Output);
                await Task.Delay(200, cancellationToken);
            }
            // Anything sent twice would arrive within a few more polls.
            await Task.Delay(2000, cancellationToken);
            var recipients = Invitations(folder);

            Assert.Multiple(() =>
            {
                Assert.That(recipients, Has.Count.EqualTo(invitations), "each email once");
                Assert.That(recipients.Distinct().Count(), Is.EqualTo(invitations));
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Lists the recipient of each invitation email in the pickup folder (the sign-up's own email aside), one entry per file.</summary>
    /// <remarks>A file a Worker is still writing is locked and skipped; it is read at a later call.</remarks>
    private static List<string> Invitations(string folder) => Directory.GetFiles(folder, "*.eml")
        .Select(f => System.Text.RegularExpressions.Regex.Match(ReadOrEmpty(f), @"scale\d+@example\.test").Value)
        .Where(r => r.Length > 0).ToList();

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, HttpMethod method, string url, string token, object? body)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
