using System.Net;
using System.Net.Http.Json;
using Platform.Engines.Billing;
using Platform.Models;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Billing;

/// <summary>Proves meter (overage) prices per currency (ADR 0775): an operator prices a meter per plan in USD and EUR, a EUR tenant's invoice, estimate and
/// current_usage use the euro price and a USD tenant's the dollar one; a meter with no euro price is not billed in euros; bad currencies are 422.</summary>
public sealed class MeterPriceCurrencyTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task An_operator_prices_a_meter_in_euros_and_EUR_tenants_are_invoiced_and_estimated_at_it_while_USD_tenants_pay_dollars()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var meter = "seats_" + Guid.NewGuid().ToString("N")[..12];
        await TestApi.ExpectAsync(await admin.PostAsJsonAsync("/v1/admin/meters",
            new { key = meter, name = "Seats", unit = "seats", decimals = 0, aggregation = "sum", reason_code = "launch" }), HttpStatusCode.Created);

        // A euro price needs the dollar one first: it holds the included quantity, the same in every currency.
        using (var early = await admin.PutAsJsonAsync($"/v1/admin/meters/{meter}/prices/starter", new { unit_price_cents = 40, currency = "eur", reason_code = "launch" }))
        {
            await TestApi.ExpectProblemAsync(early, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That((await TestApi.ReadAsync(early))["errors"]!["currency"], Is.Not.Null);
        }
        await TestApi.ExpectAsync(await admin.PutAsJsonAsync($"/v1/admin/meters/{meter}/prices/starter", new { unit_price_cents = 50, included = 2, reason_code = "launch" }), HttpStatusCode.OK);
        string euroAction;
        using (var euro = await admin.PutAsJsonAsync($"/v1/admin/meters/{meter}/prices/starter", new { unit_price_cents = 40, currency = "EUR", reason_code = "launch" }))
        {
            await TestApi.ExpectAsync(euro, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(euro);
            euroAction = (string)body["action"]!["id"]!;
            Assert.That(body["meter"]!["prices"]!.AsArray().Select(p => ((string?)p!["plan"], (string?)p["currency"], (decimal?)p["unit_price_cents"], (decimal?)p["included"])),
                Is.EqualTo(new[] { ((string?)"starter", (string?)"usd", (decimal?)50m, (decimal?)2m), ("starter", "eur", 40m, 2m) }));
        }
        foreach (var bad in new object[]
                 {
                     new { unit_price_cents = 40, currency = "gbp", reason_code = "x" },
                     new { unit_price_cents = 40, currency = "eur", included = 3, reason_code = "x" },
                     new { unit_price_cents = -1, currency = "eur", reason_code = "x" },
                 })
        {
            using var refused = await admin.PutAsJsonAsync($"/v1/admin/meters/{meter}/prices/starter", bad);
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }

        var owner = await TestApi.SignUpAsync();
        var eurTenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var usdTenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await AtAsync(October, new SubscribeTenant(Caller.System, eurTenant, "starter", "monthly", null, "eur"));
        await SubscribeAtAsync(October, usdTenant, "starter");
        // Custom meters are reported as events (billing_usage_inputs takes the built-in meters only).
        var client = TestApi.Client(owner.Token);
        foreach (var tenant in new[] { eurTenant, usdTenant })
        {
            await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/usage/events",
                new[] { new { meter, amount = 7, idempotency_key = "october", occurred_at = Utc(2026, 10, 5) } }), HttpStatusCode.OK);
        }
        await CloseAsync("2026-10", Utc(2026, 11, 1, 1));
        Assert.Multiple(async () =>
        {
            Assert.That(await LinesAsync(eurTenant, October), Is.EqualTo(new[] { "base - 1/1 x 4500 = 4500", $"overage {meter} 5/1 x 40 = 200" }),
                "5 seats beyond the 2 included at the euro price");
            Assert.That(await LinesAsync(usdTenant, October), Is.EqualTo(new[] { "base - 1/1 x 4900 = 4900", $"overage {meter} 5/1 x 50 = 250" }));
        });

        // This month's estimate and current_usage price the same use in euros.
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{eurTenant}/usage/events",
            new[] { new { meter, amount = 7, idempotency_key = "now" } }), HttpStatusCode.OK);
        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{eurTenant}/billing"));
        var usage = summary["current_usage"]!.AsArray().Single(m => (string?)m!["meter"] == meter)!;
        var line = summary["estimated_cost"]!["lines"]!.AsArray().Single(l => (string?)l!["kind"] == "overage:" + meter)!;
        Assert.Multiple(() =>
        {
            Assert.That((decimal?)usage["included"], Is.EqualTo(2m));
            Assert.That((decimal?)usage["overage"], Is.EqualTo(5m));
            Assert.That((long?)usage["cost_cents"], Is.EqualTo(200));
            Assert.That((string?)usage["currency"], Is.EqualTo("eur"));
            Assert.That((decimal?)line["unit_price_cents"], Is.EqualTo(40m));
            Assert.That((string?)summary["estimated_cost"]!["currency"], Is.EqualTo("eur"));
        });

        // Reversing the euro price removes it: the meter is then not billed in euros at all, never at the dollar number.
        await TestApi.ExpectAsync(await admin.PostAsJsonAsync($"/v1/admin/actions/{euroAction}/reverse", new { reason_code = "mistake" }), HttpStatusCode.Created);
        var after = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{eurTenant}/billing"));
        var list = await TestApi.ReadAsync(await admin.GetAsync("/v1/admin/meters"));
        var prices = list["data"]!.AsArray().Single(m => (string?)m!["key"] == meter)!["prices"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(prices.Select(p => (string?)p!["currency"]), Is.EqualTo(new[] { "usd" }));
            Assert.That(after["estimated_cost"]!["lines"]!.AsArray().Any(l => (string?)l!["kind"] == "overage:" + meter), Is.False);
            Assert.That((long?)after["current_usage"]!.AsArray().Single(m => (string?)m!["meter"] == meter)!["cost_cents"], Is.EqualTo(0));
        });
    }

    [Test]
    public async Task The_seeded_meters_have_euro_prices_of_their_own_for_every_plan()
    {
        var rows = await OwnerSql.CountAsync(
            """
            SELECT count(*) FROM meter_prices p JOIN meter_currency_prices c ON c.meter = p.meter AND c.plan = p.plan AND c.currency = 'eur'
            WHERE p.meter IN ('api_calls', 'storage_gb', 'gpu_hours') AND c.unit_price_cents <> p.unit_price_cents
            """);
        Assert.That(rows, Is.EqualTo(12), "3 built-in meters x 4 plans, each with a euro price that is not the dollar number");
        Assert.That(await OwnerSql.ScalarAsync<decimal>("SELECT unit_price_cents FROM meter_currency_prices WHERE meter = 'api_calls' AND plan = 'professional' AND currency = 'eur'"),
            Is.EqualTo(0.09m));
    }
}
