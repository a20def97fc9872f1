using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Usage;

/// <summary>Proves that a usage batch is admitted per event against hard meters (ADR 0770): the events that fit are stored, the others are listed with
/// index, meter, reason, limit, used and remaining; exact under parallel batches; a resend counts nothing twice and answers the same refusals; a consumed
/// reservation keeps working and a refused event gives its reservation back.</summary>
public sealed class PerEventIngestionTests : DatabaseTest
{
    private static async Task<(HttpClient Client, Guid TenantId)> HardGpuTenantAsync(decimal used)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);
        if (used > 0)
        {
            using var seed = await PostAsync(client, tenantId, new { meter = "gpu_hours", amount = used, idempotency_key = "seed" });
            await TestApi.ExpectAsync(seed, HttpStatusCode.OK);
        }
        return (client, tenantId);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, Guid tenantId, params object[] events) =>
        client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", events);

    private static List<string> Refused(JsonNode body, string field = "refused") =>
        body[field]!.AsArray()
            .Select(e => $"{(int)e!["index"]!}:{(string)e["meter"]!}:{(string)e["reason"]!}:{(long)e["limit"]!}:{(decimal)e["used"]!}:{(decimal)e["remaining"]!}")
            .ToList();

    private static Task<string?> GpuUsedAsync(Guid tenantId) =>
        OwnerSql.ScalarAsync<string>("SELECT trim_scale(used)::text FROM usage_rollups WHERE meter = 'gpu_hours'", tenantId);

    [Test]
    public async Task The_events_that_fit_are_stored_the_others_are_named_and_a_resend_answers_the_same_and_counts_nothing_twice()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 4m);
        object[] batch =
        [
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "k1" },
            new { meter = "images", amount = 3, idempotency_key = "k2" },
            new { meter = "gpu_hours", amount = 0.75m, idempotency_key = "k3" }, // 4.5 + 0.75 > 5: refused
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "k4" },  // 4.5 + 0.5 = 5: fits
            new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "k5" }, // 5 + 0.25: refused
        ];
        List<string> expected = ["2:gpu_hours:quota_exceeded:5:4.5:0.5", "4:gpu_hours:quota_exceeded:5:5:0"];

        using (var first = await PostAsync(client, tenantId, batch))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(first);
            Assert.That(((int?)body["received"], (int?)body["accepted"], (int?)body["duplicates"]), Is.EqualTo((5, 3, 0)));
            Assert.That(Refused(body), Is.EqualTo(expected));
        }
        using (var resend = await PostAsync(client, tenantId, batch))
        {
            await TestApi.ExpectAsync(resend, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(resend);
            Assert.That(((int?)body["accepted"], (int?)body["duplicates"]), Is.EqualTo((0, 3)));
            // The same events are refused; their figures are those of now (the month is full).
            Assert.That(Refused(body), Is.EqualTo(new[] { "2:gpu_hours:quota_exceeded:5:5:0", "4:gpu_hours:quota_exceeded:5:5:0" }));
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await GpuUsedAsync(tenantId), Is.EqualTo("5"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT string_agg(idempotency_key, ',' ORDER BY idempotency_key) FROM usage_events", tenantId),
                Is.EqualTo("k1,k2,k4,seed"));
        });

        // A soft meter is never refused: with the policy soft again, the refused events go in on a resend.
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "soft" }), HttpStatusCode.OK);
        using var soft = await PostAsync(client, tenantId, batch);
        var softBody = await TestApi.ReadAsync(soft);
        Assert.That(((int?)softBody["accepted"], (int?)softBody["duplicates"], softBody["refused"]!.AsArray().Count), Is.EqualTo((2, 3, 0)));
        Assert.That(await GpuUsedAsync(tenantId), Is.EqualTo("6"));
    }

    [Test]
    public async Task Parallel_batches_against_the_last_units_of_a_hard_quota_store_exactly_the_quota()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 2.5m); // 10 quarters left of 5
        const int batches = 16;
        var answers = await Task.WhenAll(Enumerable.Range(0, batches).Select(async b =>
        {
            var events = new List<object> { new { meter = "images", amount = 1, idempotency_key = $"img-{b}" } };
            events.AddRange(Enumerable.Range(0, 4).Select(i => (object)new { meter = "gpu_hours", amount = 0.25m, idempotency_key = $"gpu-{b}-{i}" }));
            using var response = await PostAsync(client, tenantId, [.. events]);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.That(answers.Select(a => a.StatusCode), Is.All.EqualTo(HttpStatusCode.OK), string.Join("\n", answers.Select(a => a.Body).Take(3)));
        var bodies = answers.Select(a => JsonNode.Parse(a.Body)!).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(bodies.Sum(b => (int)b["accepted"]!), Is.EqualTo(batches + 10));
            Assert.That(bodies.Sum(b => b["refused"]!.AsArray().Count), Is.EqualTo(batches * 4 - 10));
            Assert.That(bodies.SelectMany(b => b["refused"]!.AsArray()).Select(r => (string)r!["meter"]!), Is.All.EqualTo("gpu_hours"));
            Assert.That(await GpuUsedAsync(tenantId), Is.EqualTo("5"));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'gpu_hours'", tenantId), Is.EqualTo(11));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE meter = 'images'", tenantId), Is.EqualTo(batches));
        });
    }

    [Test]
    public async Task A_consumed_reservation_keeps_working_and_a_refused_event_gives_its_reservation_back()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 4.25m);
        using var check = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 0.5m, reserve = true, reserve_seconds = 300 });
        await TestApi.ExpectAsync(check, HttpStatusCode.OK);
        var reservationId = Guid.Parse((string)(await TestApi.ReadAsync(check))["reservation_id"]!);

        // 1 hour against its 0.5 hold and 0.25 free does not fit: refused, and the hold stands again (the images event is stored).
        using (var tooBig = await PostAsync(client, tenantId,
                   new { meter = "images", amount = 1, idempotency_key = "i1" },
                   new { meter = "gpu_hours", amount = 1m, idempotency_key = "big", reservation_id = reservationId }))
        {
            await TestApi.ExpectAsync(tooBig, HttpStatusCode.OK);
            Assert.That(Refused(await TestApi.ReadAsync(tooBig)), Is.EqualTo(new[] { "1:gpu_hours:quota_exceeded:5:4.25:0.25" }));
        }
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_reservations WHERE consumed_at IS NULL", tenantId), Is.EqualTo(1));

        // A plain event may not eat the held half hour; the event carrying the reservation consumes it.
        using (var mixed = await PostAsync(client, tenantId,
                   new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "plain" },
                   new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "held", reservation_id = reservationId }))
        {
            await TestApi.ExpectAsync(mixed, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(mixed);
            Assert.That((int?)body["accepted"], Is.EqualTo(1));
            Assert.That(Refused(body), Is.EqualTo(new[] { "0:gpu_hours:quota_exceeded:5:4.25:0.25" }));
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await GpuUsedAsync(tenantId), Is.EqualTo("4.75"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT consumed_by FROM usage_reservations WHERE id = @id", tenantId, ("id", reservationId)), Is.EqualTo("held"));
        });
    }
}
