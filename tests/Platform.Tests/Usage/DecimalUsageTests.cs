using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Usage;
using Platform.Models;
using static Platform.Tests.Invoices.InvoiceTestSupport;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Usage;

/// <summary>Proves exact decimal usage end to end (ADR 0560): fractional amounts within a meter's precision are stored, summed, shown and
/// billed exactly; fractions on whole-unit meters, extra decimals and values of the wrong kind get 422 naming the field and write nothing.</summary>
public sealed class DecimalUsageTests : DatabaseTest
{
    [Test]
    public async Task Seed_003_fractions_are_accepted_and_the_summary_and_history_show_them_exactly()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        // storage_gb is a level (a gauge, ADR 0640): 0.1 GB, then 120.5 GB from the first moment of the month on, is 120.5 GB-months.
        var monthStart = Platform.Models.Usage.Meters.MonthStart(DateTimeOffset.UtcNow);
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "gpu-1" },
            new { meter = "gpu_hours", amount = 14.75m, idempotency_key = "gpu-2" },
            new { meter = "storage_gb", amount = 0.1m, idempotency_key = "storage-1", occurred_at = monthStart },
            new { meter = "storage_gb", amount = 120.5m, idempotency_key = "storage-2", occurred_at = monthStart },
            new { meter = "api_calls", amount = 3, idempotency_key = "calls-1" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        // 0.1 + 0.2 in binary floating point is 0.30000000000000004; in numeric it is 0.3.
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "images", amount = 0.1m, idempotency_key = "img-1" },
            new { meter = "images", amount = 0.2m, idempotency_key = "img-2" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        using var summary = await client.GetAsync($"/v1/tenants/{tenantId}/usage");
        await TestApi.ExpectAsync(summary, HttpStatusCode.OK);
        var text = await summary.Content.ReadAsStringAsync();
        var lines = JsonNode.Parse(text)!["meters"]!.AsArray().ToDictionary(m => (string)m!["meter"]!, m => m!);
        Assert.Multiple(() =>
        {
            Assert.That(lines["gpu_hours"]["used"]!.ToJsonString(), Is.EqualTo("15.25"));
            Assert.That(lines["storage_gb"]["used"]!.ToJsonString(), Is.EqualTo("120.5"));
            Assert.That(lines["api_calls"]["used"]!.ToJsonString(), Is.EqualTo("3"));
            Assert.That(lines["images"]["used"]!.ToJsonString(), Is.EqualTo("0.3"));
            // free: 5 GPU hours, 10 GB: 15.25 / 5 = 305 %, 120.5 / 10 = 1205 %.
            Assert.That((decimal?)lines["gpu_hours"]["percentage"], Is.EqualTo(305m));
            Assert.That((decimal?)lines["storage_gb"]["percentage"], Is.EqualTo(1205m));
        });
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT sum(amount)::text FROM usage_events WHERE meter = 'gpu_hours'", tenantId), Is.EqualTo("15.25"));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT used::text FROM usage_rollups WHERE meter = 'storage_gb'", tenantId), Is.EqualTo("120.5"));

        using var history = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?meter=gpu_hours");
        var rows = (await TestApi.ReadAsync(history))["data"]!.AsArray();
        Assert.That(rows.Select(r => r!["used"]!.ToJsonString()), Is.EqualTo(new[] { "15.25" }));

        await using var scope = TestApi.Services.CreateAsyncScope();
        var line = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CheckQuota(Caller.User(owner.Id), tenantId, "images", 0.7m));
        Assert.That(line.Used, Is.EqualTo(0.3m));
    }

    [Test]
    public async Task Fractions_on_whole_unit_meters_extra_decimals_and_non_numbers_get_422_naming_the_amount_and_write_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/usage/events";
        var ok = """{"meter": "gpu_hours", "amount": 1, "idempotency_key": "fine"}""";
        string[] refused =
        [
            """{"meter": "api_calls", "amount": 1.5, "idempotency_key": "a"}""",
            """{"meter": "tokens", "amount": 0.001, "idempotency_key": "b"}""",
            """{"meter": "gpu_hours", "amount": 0.12345, "idempotency_key": "c"}""",
            """{"meter": "storage_gb", "amount": 0.0001, "idempotency_key": "d"}""",
            """{"meter": "images", "amount": 0.0000001, "idempotency_key": "e"}""",
            """{"meter": "gpu_hours", "amount": 1e16, "idempotency_key": "f"}""",
            """{"meter": "gpu_hours", "amount": "abc", "idempotency_key": "g"}""",
            """{"meter": "gpu_hours", "amount": true, "idempotency_key": "h"}""",
            """{"meter": "gpu_hours", "amount": {}, "idempotency_key": "i"}""",
            """{"meter": "gpu_hours", "amount": [1], "idempotency_key": "j"}""",
            """{"meter": "gpu_hours", "amount": 1e400, "idempotency_key": "k"}""",
        ];
        foreach (var bad in refused)
        {
            // The refused event is second, in both shapes of the body: the field is events[1].amount.
            foreach (var body in new[] { $"[{ok}, {bad}]", $$"""{"events": [{{ok}}, {{bad}}]}""" })
            {
                using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, body));
                var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
                Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "events[1].amount" }), body);
                Assert.That(problem.ToJsonString(), Does.Not.Contain("not valid JSON"), body);
            }
        }
        // Whole numbers written with a fraction of zeros are whole numbers; 2 decimals fit gpu_hours.
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url,
                   """[{"meter": "api_calls", "amount": 2.000, "idempotency_key": "w"}, {"meter": "gpu_hours", "amount": 0.25, "idempotency_key": "x"}]""")))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        // Real syntax errors keep the 400 that says so.
        foreach (var broken in new[] { """[{"meter": "gpu_hours", "amount": 1.""", """[{"meter": "gpu_hours", "amount": abc}]""" })
        {
            using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, broken));
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            Assert.That((string?)problem["detail"], Is.EqualTo("The body is not valid JSON for this request."));
        }
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(2));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT string_agg(meter || '=' || used::text, ',' ORDER BY meter) FROM usage_rollups", tenantId),
            Is.EqualTo("api_calls=2,gpu_hours=0.25"));
    }

    [Test]
    public async Task A_value_of_the_wrong_kind_is_a_422_naming_the_field_on_other_routes_too()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys",
                   """{"name": "k", "permissions": ["runs:read"], "rate_limit_rpm": "ten"}""")))
        {
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "rate_limit_rpm" }));
        }
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Put, $"/v1/tenants/{tenantId}/workers/summarizer/config", """{"enabled": "yes"}""")))
        {
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "enabled" }));
        }
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys", """{"name": "k", """)))
        {
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
            Assert.That((string?)problem["detail"], Is.EqualTo("The body is not valid JSON for this request."));
        }
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM api_keys WHERE tenant_id = @t"), Is.EqualTo(0));
    }

    [Test]
    public async Task Ten_and_a_half_gpu_hours_over_the_quota_are_invoiced_at_exactly_10_5_times_250_cents()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        // free includes 5 GPU hours: 15.5 used is 10.5 over; 20.001 GB over 10 included is 10.001 GB-months (23.0023 cents, rounded once to 23).
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 15.25m, idempotency_key = "gpu-1", occurred_at = "2026-10-10T00:00:00Z" },
            new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "gpu-2", occurred_at = "2026-10-31T23:59:59Z" },
            new { meter = "storage_gb", amount = 20.001m, idempotency_key = "gb-1", occurred_at = "2026-10-01T00:00:00Z" },
            new { meter = "gpu_hours", amount = 100m, idempotency_key = "gpu-nov", occurred_at = "2026-11-01T00:00:00Z" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        await CloseAsync("2026-10", Utc(2026, 11, 2));

        Assert.That(await LinesAsync(tenantId, Utc(2026, 10, 1)), Is.EqualTo(new[]
        {
            "overage storage_gb 10.001/1 x 2.3 = 23",
            "overage gpu_hours 10.5/1 x 250 = 2625",
        }));
        Assert.That((await InvoiceAsync(tenantId, Utc(2026, 10, 1)))!.Value.Total, Is.EqualTo(2_648));
    }

    [Test]
    public async Task A_fractional_rollup_crossing_80_percent_alerts_with_its_exact_use()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        // free: 10 GB. A level of 7.999 GB all month is below 80 %; 8 GB from the same first moment on (a later report) reaches it exactly.
        var monthStart = Platform.Models.Usage.Meters.MonthStart(DateTimeOffset.UtcNow);
        foreach (var (amount, key) in new[] { (7.999m, "a"), (8m, "b") })
        {
            using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
                new[] { new { meter = "storage_gb", amount, idempotency_key = key, occurred_at = monthStart } });
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            var expected = key == "a" ? 0 : 1;
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'email.usage_alert'", tenantId), Is.EqualTo(expected), key);
        }
        Assert.That(await OwnerSql.CountAsync(
            "SELECT count(*) FROM outbox_messages WHERE kind = 'email.usage_alert' AND payload::text LIKE '%used 8 of 10 (80%)%'", tenantId), Is.EqualTo(1));
    }
}
