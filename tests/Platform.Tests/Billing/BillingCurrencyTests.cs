using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Platform.Engines.Billing;
using Platform.Models;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Billing;

/// <summary>Proves billing currencies (ADR 0720, 0776): a plan's price per currency, the tenant's currency chosen at its first subscription or completed Checkout and
/// fixed afterwards (409), every money figure with its code, a EUR tenant invoiced in EUR and never in USD, and Stripe's EUR prices through the fake.</summary>
public sealed class BillingCurrencyTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task The_first_subscription_fixes_EUR_the_summary_prices_in_it_and_asking_for_USD_later_is_409()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        var before = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));

        using (var unknown = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly", currency = "gbp" }))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly", currency = "EUR" }), HttpStatusCode.OK);
        var after = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));
        using var change = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "enterprise", billing_cycle = "monthly", currency = "usd" });
        await TestApi.ExpectProblemAsync(change, HttpStatusCode.Conflict, "billing_currency_fixed");
        // Naming no currency (or the same one) keeps working: the upgrade is priced in EUR.
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "enterprise", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var upgraded = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));
        var plans = await TestApi.ReadAsync(await client.GetAsync("/v1/plans"));

        Assert.Multiple(async () =>
        {
            Assert.That((string?)before["currency"], Is.EqualTo("usd"), "the installation's default until chosen");
            Assert.That((bool?)before["currency_fixed"], Is.False);
            Assert.That((string?)after["currency"], Is.EqualTo("eur"));
            Assert.That((bool?)after["currency_fixed"], Is.True);
            Assert.That((string?)after["estimated_cost"]!["currency"], Is.EqualTo("eur"));
            Assert.That((long?)after["estimated_cost"]!["lines"]![0]!["amount_cents"], Is.EqualTo(18_500), "Professional in euros");
            Assert.That((long?)upgraded["estimated_cost"]!["lines"]![0]!["amount_cents"], Is.EqualTo(92_500), "Enterprise in euros");
            Assert.That((string?)upgraded["plan"], Is.EqualTo("enterprise"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", tenant, ("t", tenant)), Is.EqualTo("eur"));
            var professional = plans["data"]!.AsArray().Single(p => (string?)p!["id"] == "professional")!;
            Assert.That(professional["prices"]!.AsArray().Select(p => ((string?)p!["currency"], (long?)p["monthly_cents"])),
                Is.EqualTo(new[] { ("usd", (long?)19_900), ("eur", (long?)18_500) }));
        });
    }

    [Test]
    public async Task A_EUR_tenant_is_invoiced_in_EUR_and_the_database_refuses_a_USD_invoice_or_a_currency_change()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var usdTenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await AtAsync(October, new SubscribeTenant(Caller.System, tenant, "starter", "monthly", null, "eur"));
        await SubscribeAtAsync(October, usdTenant, "starter");
        await PutUsageAsync(tenant, October, "gpu_hours", 60);
        await PutUsageAsync(usdTenant, October, "gpu_hours", 60);

        await CloseAsync("2026-10", Utc(2026, 11, 1, 1));

        var lines = await LinesAsync(tenant, October);
        var usdLines = await LinesAsync(usdTenant, October);
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT currency FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant)), Is.EqualTo("eur"));
            Assert.That(lines[0], Is.EqualTo("base - 1/1 x 4500 = 4500"), "Starter's euro price");
            Assert.That(lines[1], Is.EqualTo("overage gpu_hours 10/1 x 230 = 2300"), "the GPU hour's euro price (ADR 0775), not the USD number");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT currency FROM invoices WHERE tenant_id = @t", usdTenant, ("t", usdTenant)), Is.EqualTo("usd"));
            Assert.That(usdLines[0], Is.EqualTo("base - 1/1 x 4900 = 4900"));
            Assert.That(usdLines[1], Is.EqualTo("overage gpu_hours 10/1 x 250 = 2500"), "the same use priced in dollars");
        });

        var usdInvoice = Assert.ThrowsAsync<PostgresException>(() => OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO invoices (tenant_id, id, number, kind, status, currency, period_start, period_end, subtotal_cents, total_cents, issued_at, created_at, updated_at)
            VALUES (@t, gen_random_uuid(), 990000001, 'period', 'open', 'usd', '2026-09-01Z', '2026-10-01Z', 100, 100, now(), now(), now())
            """, tenant, ("t", tenant)));
        var currencyChange = Assert.ThrowsAsync<PostgresException>(() =>
            OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_currency = 'usd' WHERE id = @t", tenant, ("t", tenant)));
        Assert.Multiple(async () =>
        {
            Assert.That(usdInvoice!.SqlState, Is.EqualTo(PostgresErrorCodes.CheckViolation));
            Assert.That(usdInvoice.MessageText, Does.Contain("billed in eur"));
            Assert.That(currencyChange!.SqlState, Is.EqualTo(PostgresErrorCodes.CheckViolation));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant)), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Online_a_EUR_subscription_and_a_EUR_checkout_use_Stripe_s_EUR_prices()
    {
        using var stripe = new FakeStripe();
        using var online = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Stripe:SecretKey", "sk_test_fake");
            b.UseSetting("Stripe:ApiBase", stripe.BaseUrl);
            b.UseSetting("Stripe:Prices:professional_monthly", "price_pro_m");
            b.UseSetting("Stripe:Prices:professional_monthly_eur", "price_pro_m_eur");
        });
        var owner = await TestApi.SignUpAsync();
        var subscribed = await TestApi.CreateTenantAsync(owner, plan: "free");
        var checkedOut = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = online.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{subscribed}/subscription",
            new { plan = "professional", billing_cycle = "monthly", payment_method_id = "pm_card_visa", currency = "eur" }), HttpStatusCode.OK);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{checkedOut}/billing/checkout",
            new { plan = "starter", billing_cycle = "annual", currency = "eur" }), HttpStatusCode.Created);
        // Starting a Checkout fixes nothing (ADR 0776): until one completes, the tenant may start another in USD.
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{checkedOut}/billing/checkout",
            new { plan = "starter", billing_cycle = "annual", currency = "usd" }), HttpStatusCode.Created);

        var subscription = stripe.Requests.Single(r => r.Path == "/v1/subscriptions");
        var sessions = stripe.Requests.Where(r => r.Path == "/v1/checkout/sessions").ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(subscription.Form["items[0][price]"], Is.EqualTo("price_pro_m_eur"), "the configured EUR price");
            Assert.That(sessions, Has.Count.EqualTo(2));
            Assert.That(sessions[0].Form["line_items[0][price]"], Is.EqualTo("price_starter_annual_eur"), "the default id of an unconfigured EUR price");
            Assert.That(sessions[0].Form["metadata[currency]"], Is.EqualTo("eur"));
            Assert.That(sessions[1].Form["line_items[0][price]"], Is.EqualTo("price_starter_annual"));
            Assert.That(sessions[1].IdempotencyKey, Is.Not.EqualTo(sessions[0].IdempotencyKey), "another currency is another session");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", checkedOut, ("t", checkedOut)), Is.Null,
                "no Checkout completed yet");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", subscribed, ("t", subscribed)), Is.EqualTo("eur"),
                "a subscription made at once fixes it");
        });
    }
}
