using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Usage;

/// <summary>Proves the per-event admission of usage batches (ADR 0770) on a hard level meter (storage_gb, a gauge: ADR 0795): an event is refused when the
/// level it reports passes the quota, whatever the month's GB-month so far; the others are stored; the answer is 200 with `refused` naming exactly the
/// over-limit events and why; parallel batches store exactly the events under the limit.</summary>
public sealed class LevelMeterIngestionTests : DatabaseTest
{
    private static async Task<(HttpClient Client, Guid TenantId)> HardStorageTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 10 GB of storage
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/storage_gb", new { policy = "hard" }), HttpStatusCode.OK);
        return (client, tenantId);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, Guid tenantId, params object[] events) =>
        client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", events);

    private static List<string> Refused(JsonNode body) =>
        body["refused"]!.AsArray().Select(e => $"{(int)e!["index"]!}:{(string)e["meter"]!}:{(string)e["reason"]!}:{(long)e["limit"]!}").ToList();

    [Test]
    public async Task A_level_over_the_quota_is_refused_by_itself_and_the_others_are_stored()
    {
        var (client, tenantId) = await HardStorageTenantAsync();
        // Reported now, 12 GB for the rest of the month averages under 10 GB-month on most days: the level itself is what passes the quota.
        using (var response = await PostAsync(client, tenantId,
                   new { meter = "storage_gb", amount = 2.5m, idempotency_key = "s1" },
                   new { meter = "storage_gb", amount = 12m, idempotency_key = "s2" },     // over 10: refused
                   new { meter = "images", amount = 3, idempotency_key = "i1" },
                   new { meter = "storage_gb", amount = 10m, idempotency_key = "s3" },     // exactly the quota: fits
                   new { meter = "storage_gb", amount = 10.001m, idempotency_key = "s4" }))  // refused
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(response);
            Assert.That(((int?)body["received"], (int?)body["accepted"], (int?)body["duplicates"]), Is.EqualTo((5, 3, 0)));
            Assert.That(Refused(body), Is.EqualTo(new[] { "1:storage_gb:quota_exceeded:10", "4:storage_gb:quota_exceeded:10" }));
        }
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT string_agg(idempotency_key, ',' ORDER BY idempotency_key) FROM usage_events", tenantId),
            Is.EqualTo("i1,s1,s3"));

        // Only over-limit events in a batch: 429 naming each of them, nothing stored.
        using var none = await PostAsync(client, tenantId, new { meter = "storage_gb", amount = 11m, idempotency_key = "s5" });
        Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        var problem = await TestApi.ReadAsync(none);
        Assert.That(((string?)problem["code"], problem["refused_events"]!.AsArray().Count), Is.EqualTo(("quota_exceeded", 1)));
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'storage_gb'", tenantId), Is.EqualTo(2));

        // Soft again: the level is stored (soft meters only alert and bill).
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/storage_gb", new { policy = "soft" }), HttpStatusCode.OK);
        using var soft = await PostAsync(client, tenantId, new { meter = "storage_gb", amount = 11m, idempotency_key = "s5" });
        await TestApi.ExpectAsync(soft, HttpStatusCode.OK);
        Assert.That((int?)(await TestApi.ReadAsync(soft))["accepted"], Is.EqualTo(1));
    }

    [Test]
    public async Task Parallel_batches_of_levels_store_exactly_the_levels_under_the_quota()
    {
        var (client, tenantId) = await HardStorageTenantAsync();
        const int batches = 16;
        var answers = await Task.WhenAll(Enumerable.Range(0, batches).Select(async b =>
        {
            using var response = await PostAsync(client, tenantId,
                new { meter = "storage_gb", amount = 9.5m, idempotency_key = $"low-{b}" },
                new { meter = "storage_gb", amount = 10.5m + b, idempotency_key = $"high-{b}" },
                new { meter = "images", amount = 1, idempotency_key = $"img-{b}" },
                new { meter = "storage_gb", amount = 10m, idempotency_key = $"top-{b}" });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.That(answers.Select(a => a.StatusCode), Is.All.EqualTo(HttpStatusCode.OK), string.Join("\n", answers.Select(a => a.Body).Take(3)));
        var bodies = answers.Select(a => JsonNode.Parse(a.Body)!).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(bodies.Select(b => (int)b["accepted"]!), Is.All.EqualTo(3));
            Assert.That(bodies.Select(Refused), Is.All.EqualTo(new[] { "1:storage_gb:quota_exceeded:10" }));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'storage_gb'", tenantId), Is.EqualTo(batches * 2));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'storage_gb' AND amount > 10", tenantId), Is.EqualTo(0));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'images'", tenantId), Is.EqualTo(batches));
        });
    }
}
