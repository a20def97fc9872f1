using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Usage;

/// <summary>Proves the operators' meter catalogue (ADR 0640): a meter added and priced over HTTP is ingested with its precision, aggregated, shown and
/// billed without a code change; a seeded meter's price change reaches the close; bad input gets problem details.</summary>
public sealed class MeterCatalogueTests : DatabaseTest
{
    [Test]
    public async Task An_operator_adds_a_unique_count_meter_and_prices_it_and_the_tenant_is_billed_for_it_without_a_code_change()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        using (var created = await admin.PostAsJsonAsync("/v1/admin/meters", new
        {
            key = "active_users", name = "Active users", unit = "users", decimals = 0, aggregation = "unique_count", unique_property = "user", reason_code = "launch",
        }))
        {
            await TestApi.ExpectAsync(created, HttpStatusCode.Created);
            var body = await TestApi.ReadAsync(created);
            Assert.That((string?)body["meter"]!["aggregation"], Is.EqualTo("unique_count"));
            Assert.That((string?)body["action"]!["action_type"], Is.EqualTo("meter.create"));
        }
        using (var priced = await admin.PutAsJsonAsync("/v1/admin/meters/active_users/prices/free", new { unit_price_cents = 50, included = 2, reason_code = "launch" }))
        {
            await TestApi.ExpectAsync(priced, HttpStatusCode.OK);
            var prices = (await TestApi.ReadAsync(priced))["meter"]!["prices"]!.AsArray();
            Assert.That(prices.Select(p => ((string?)p!["plan"], (decimal?)p["unit_price_cents"], (decimal?)p["included"])),
                Is.EqualTo(new[] { ((string?)"free", (decimal?)50m, (decimal?)2m) }));
        }

        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        // The meter counts whole users: a fraction is refused with 422 naming the amount, as for seeded meters.
        using (var fraction = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
                   new[] { new { meter = "active_users", amount = 0.5m, idempotency_key = "x", metadata = new { user = "u1" } } }))
        {
            await TestApi.ExpectProblemAsync(fraction, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That((await TestApi.ReadAsync(fraction))["errors"]!["events[0].amount"], Is.Not.Null);
        }
        // Seven events from five distinct users in October: 5 active users, 3 beyond the 2 included, at 50 cents.
        var users = new[] { "u1", "u2", "u1", "u3", "u4", "u2", "u5" };
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
                   users.Select((u, i) => new { meter = "active_users", amount = 1, idempotency_key = $"login-{i}", occurred_at = Utc(2026, 10, 3 + i), metadata = new { user = u } })))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        using var history = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?meter=active_users&from=2026-10-01T00:00:00Z&to=2026-10-01T00:00:00Z");
        Assert.That((await TestApi.ReadAsync(history))["data"]!.AsArray().Select(r => (decimal)r!["used"]!), Is.EqualTo(new[] { 5m }));

        await CloseAsync("2026-10", Utc(2026, 11, 2));
        Assert.That(await LinesAsync(tenantId, Utc(2026, 10, 1)), Is.EqualTo(new[] { "overage active_users 3/1 x 50 = 150" }));
    }

    [Test]
    public async Task A_seeded_meters_new_price_reaches_the_close_and_reversing_it_restores_the_old_one()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await PutUsageAsync(tenantId, Utc(2026, 9, 1), "gpu_hours", 7.5m);
        await PutUsageAsync(tenantId, Utc(2026, 10, 1), "gpu_hours", 7.5m);

        string actionId;
        using (var priced = await admin.PutAsJsonAsync("/v1/admin/meters/gpu_hours/prices/free", new { unit_price_cents = 300, reason_code = "repricing" }))
        {
            await TestApi.ExpectAsync(priced, HttpStatusCode.OK);
            actionId = (string)(await TestApi.ReadAsync(priced))["action"]!["id"]!;
        }
        // free includes 5 GPU hours: 2.5 over at the new 300 cents.
        await CloseAsync("2026-09", Utc(2026, 10, 2));
        Assert.That(await LinesAsync(tenantId, Utc(2026, 9, 1)), Is.EqualTo(new[] { "overage gpu_hours 2.5/1 x 300 = 750" }));

        using (var reversed = await admin.PostAsJsonAsync($"/v1/admin/actions/{actionId}/reverse", new { reason_code = "mistake" }))
        {
            await TestApi.ExpectAsync(reversed, HttpStatusCode.Created);
        }
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        Assert.That(await LinesAsync(tenantId, Utc(2026, 10, 1)), Is.EqualTo(new[] { "overage gpu_hours 2.5/1 x 250 = 625" }));
    }

    [Test]
    public async Task Bad_meters_and_prices_get_problem_details_and_change_nothing()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (_, support) = await OperatorTestSupport.SignedInAsync("support");
        object[] refused =
        [
            new { key = "m1", unit = "u", aggregation = "median", reason_code = "x" },
            new { key = "m1", unit = "u", reason_code = "x" },
            new { key = "m1", unit = "u", aggregation = "unique_count", reason_code = "x" },
            new { key = "m1", unit = "u", aggregation = "sum", unique_property = "user", reason_code = "x" },
            new { key = "M 1", unit = "u", aggregation = "sum", reason_code = "x" },
            new { key = "m1", unit = "", aggregation = "sum", reason_code = "x" },
            new { key = "m1", unit = "u", aggregation = "sum", decimals = 7, reason_code = "x" },
            new { key = "m1", unit = "u", aggregation = "sum" },
        ];
        foreach (var body in refused)
        {
            using var response = await admin.PostAsJsonAsync("/v1/admin/meters", body);
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var exists = await admin.PostAsJsonAsync("/v1/admin/meters", new { key = "gpu_hours", unit = "h", aggregation = "sum", reason_code = "x" }))
        {
            await TestApi.ExpectProblemAsync(exists, HttpStatusCode.Conflict, "meter_exists");
        }
        using (var forbidden = await support.PostAsJsonAsync("/v1/admin/meters", new { key = "m2", unit = "u", aggregation = "sum", reason_code = "x" }))
        {
            Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        }
        using (var unknown = await admin.PutAsJsonAsync("/v1/admin/meters/nope/prices/free", new { unit_price_cents = 1, reason_code = "x" }))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
        foreach (var (plan, body) in new (string, object)[]
                 {
                     ("platinum", new { unit_price_cents = 1, reason_code = "x" }),
                     ("free", new { unit_price_cents = -1, reason_code = "x" }),
                     ("free", new { unit_price_cents = 0.0000001m, reason_code = "x" }),
                     ("free", new { reason_code = "x" }),
                     ("free", new { unit_price_cents = 1, included = -2, reason_code = "x" }),
                 })
        {
            using var response = await admin.PutAsJsonAsync($"/v1/admin/meters/gpu_hours/prices/{plan}", body);
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var anonymous = await TestApi.Client().GetAsync("/v1/admin/meters"))
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM meters WHERE key IN ('m1', 'm2')"), Is.Zero);
        Assert.That(await OwnerSql.ScalarAsync<decimal>("SELECT unit_price_cents FROM meter_prices WHERE meter = 'gpu_hours' AND plan = 'free'"), Is.EqualTo(250m));
        using var list = await admin.GetAsync("/v1/admin/meters");
        var meters = (await TestApi.ReadAsync(list))["data"]!.AsArray();
        Assert.That(meters.Select(m => ((string?)m!["key"], (string?)m["aggregation"])), Does.Contain(((string?)"storage_gb", (string?)"gauge")));
    }
}
