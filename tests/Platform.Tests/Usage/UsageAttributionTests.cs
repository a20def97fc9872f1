using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Tests.ApiKeys;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Usage;

/// <summary>Proves attributed usage and raw events (ADR 0641): events carry the worker they name and the API key that sent them (set by the service),
/// the history filters by them with the meter's aggregation, raw events page by cursor with filters, and bad input gets problem details.</summary>
public sealed class UsageAttributionTests : DatabaseTest
{
    [Test]
    public async Task Key_callers_events_carry_the_key_the_history_filters_by_worker_and_key_and_raw_events_page_with_filters()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var user = TestApi.Client(owner.Token);
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["usage:read", "usage:write"]);
        var machine = TestApi.Client(key.Secret);
        var url = $"/v1/tenants/{tenantId}/usage/events";
        // The key's body names another key id: it is not a field, so the service's own attribution stands.
        using (var response = await machine.PostAsJsonAsync(url, new object[]
        {
            new { meter = "gpu_hours", amount = 1.5m, idempotency_key = "k1", occurred_at = Utc(2026, 10, 2), worker_id = "summarizer", api_key_id = Guid.NewGuid() },
            new { meter = "gpu_hours", amount = 2m, idempotency_key = "k2", occurred_at = Utc(2026, 10, 3), worker_id = "extractor" },
            new { meter = "storage_gb", amount = 30m, idempotency_key = "k3", occurred_at = Utc(2026, 10, 1), worker_id = "summarizer" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        using (var response = await user.PostAsJsonAsync(url, new object[]
        {
            new { meter = "gpu_hours", amount = 4m, idempotency_key = "u1", occurred_at = Utc(2026, 10, 4), worker_id = "summarizer", metadata = new { team = "a" } },
            new { meter = "gpu_hours", amount = 8m, idempotency_key = "u2", occurred_at = Utc(2026, 11, 4) },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM usage_events WHERE api_key_id = @k", tenantId, ("k", key.Id)), Is.EqualTo(3));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM usage_events WHERE api_key_id IS NULL", tenantId), Is.EqualTo(2));

        async Task<IReadOnlyList<(string Meter, string Period, decimal Used)>> HistoryAsync(string query)
        {
            using var response = await user.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&{query}");
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            return (await TestApi.ReadAsync(response))["data"]!.AsArray()
                .Select(r => ((string)r!["meter"]!, ((string)r["period_start"]!)[..7], (decimal)r["used"]!)).ToList();
        }
        // The summarizer's GPU hours: 1.5 (key) + 4 (user) in October; its storage is a level of 30 GB all October (a gauge, ADR 0640).
        Assert.That(await HistoryAsync("worker_id=summarizer"), Is.EqualTo(new[] { ("gpu_hours", "2026-10", 5.5m), ("storage_gb", "2026-10", 30m) }));
        Assert.That(await HistoryAsync($"api_key_id={key.Id}&meter=gpu_hours"), Is.EqualTo(new[] { ("gpu_hours", "2026-10", 3.5m) }));
        Assert.That(await HistoryAsync("meter=gpu_hours"), Is.EqualTo(new[] { ("gpu_hours", "2026-10", 7.5m), ("gpu_hours", "2026-11", 8m) }));

        // Raw events newest first, two at a time: every event exactly once, in order, and the key's attribution shown.
        var seen = new List<JsonNode>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var page = await machine.GetAsync($"{url}?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}");
            await TestApi.ExpectAsync(page, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(page);
            seen.AddRange(body["data"]!.AsArray().Select(e => e!));
            cursor = (string?)body["next_cursor"];
            pages++;
        }
        while (cursor is not null && pages < 10);
        Assert.That(seen.Select(e => (string?)e["idempotency_key"]), Is.EqualTo(new[] { "u2", "u1", "k2", "k1", "k3" }));
        Assert.That(pages, Is.EqualTo(3));
        Assert.That(seen.Single(e => (string?)e["idempotency_key"] == "k1")["api_key_id"]!.GetValue<string>(), Is.EqualTo(key.Id.ToString()));
        Assert.That(seen.Single(e => (string?)e["idempotency_key"] == "u1")["metadata"]!["team"]!.GetValue<string>(), Is.EqualTo("a"));

        async Task<IReadOnlyList<string?>> KeysAsync(string query)
        {
            using var response = await user.GetAsync($"{url}?{query}");
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            return (await TestApi.ReadAsync(response))["data"]!.AsArray().Select(e => (string?)e!["idempotency_key"]).ToList();
        }
        Assert.That(await KeysAsync("meter=gpu_hours&worker_id=summarizer"), Is.EqualTo(new[] { "u1", "k1" }));
        Assert.That(await KeysAsync($"api_key_id={key.Id}&from=2026-10-02T00:00:00Z&to=2026-10-03T00:00:00Z"), Is.EqualTo(new[] { "k1" }));
        Assert.That(await KeysAsync("from=2026-11-01T00:00:00Z"), Is.EqualTo(new[] { "u2" }));
    }

    [Test]
    public async Task Bad_attribution_metadata_filters_and_cursors_get_problem_details_and_other_tenants_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/usage/events";
        var big = new string('x', 2100);
        (object Event, string Field)[] refused =
        [
            (new { meter = "gpu_hours", amount = 1, idempotency_key = "a", metadata = new[] { 1, 2 } }, "metadata"),
            (new { meter = "gpu_hours", amount = 1, idempotency_key = "a", metadata = "text" }, "metadata"),
            (new { meter = "gpu_hours", amount = 1, idempotency_key = "a", metadata = new { big } }, "metadata"),
            (new { meter = "gpu_hours", amount = 1, idempotency_key = "a", metadata = new { nul = "a\u0000b" } }, "metadata"),
            (new { meter = "gpu_hours", amount = 1, idempotency_key = "a", worker_id = "Not A Worker" }, "events[0].worker_id"),
        ];
        foreach (var (e, field) in refused)
        {
            using var response = await client.PostAsJsonAsync(url, new[] { e });
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            // The edge names a NUL anywhere in the body by its JSON path (ADR 0180) before the engine's own check: the metadata's field either way.
            var errors = (await TestApi.ReadAsync(response))["errors"]!.AsObject().Select(p => p.Key).ToList();
            Assert.That(errors, Has.Some.Contains(field), string.Join(", ", errors));
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM usage_events", tenantId), Is.Zero);

        foreach (var query in new[] { "cursor=nope", "cursor=" + new string('A', 40), "limit=0", "limit=201", "meter=Bad!", "worker_id=Bad!",
                     "from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z" })
        {
            using var response = await client.GetAsync($"{url}?{query}");
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var history = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?worker_id=Bad!"))
        {
            await TestApi.ExpectProblemAsync(history, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var notGuid = await client.GetAsync($"{url}?api_key_id=nope"))
        {
            Assert.That((int)notGuid.StatusCode, Is.AnyOf(400, 422));
        }

        var other = await TestApi.SignUpAsync();
        var otherTenant = await TestApi.CreateTenantAsync(other);
        using (var foreign = await client.GetAsync($"/v1/tenants/{otherTenant}/usage/events"))
        {
            Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
    }
}
