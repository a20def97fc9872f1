using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>A tenant billed in euros (its first subscription fixed EUR, ADR 0720/0776) sees its billing screen in euros: every plan card at the
/// plan's EUR price of the subscription's cycle (the catalogue's prices list, as the subscription charges it) and every credit pack at the
/// pack's EUR price (ADR 0777), formatted with the currency's code; no USD figure is left on those. Checked with axe at 1280 and 390 px.</summary>
public sealed class EurBillingTests
{
    private static string Money(string currency, long cents) =>
        currency.ToUpperInvariant() + " " + (cents / 100).ToString("N0", CultureInfo.InvariantCulture) + "." + (cents % 100).ToString("00", CultureInfo.InvariantCulture);

    [Test]
    public async Task A_EUR_tenants_plan_cards_and_credit_packs_show_their_EUR_prices()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"eur-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Eva Euro", email, "Euro " + suffix);
        var tenantId = tenantUrl.Split('/').Last();
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = MembersTests.Password }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);

        // The first subscription fixes the tenant's billing currency (billing runs offline here, so it starts at once).
        await TenantScreensTests.Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = "starter", billing_cycle = "monthly", currency = "eur" }));
        var billing = await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}/billing"));
        Assert.That(((string?)billing["currency"], (bool?)billing["currency_fixed"]), Is.EqualTo(("eur", (bool?)true)));

        var plans = (await TenantScreensTests.Json(await http.GetAsync("/v1/plans")))["data"]!.AsArray().Select(p => p!).ToList();
        static JsonNode? Eur(JsonNode item) => item["prices"]?.AsArray().SingleOrDefault(p => (string?)p!["currency"] == "eur");
        var euroPlans = plans.Where(p => Eur(p) is not null && (long)Eur(p)!["monthly_cents"]! > 0).ToList();
        Assert.That(euroPlans.Select(p => (string)p["id"]!), Does.Contain("starter").And.Contain("professional"), "the catalogue sells these in euros");
        Assert.That(euroPlans.Any(p => (long)Eur(p)!["monthly_cents"]! != (long)p["price_monthly_cents"]!), Is.True, "the euro prices are not the USD numbers");
        var packs = (await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}/credits")))["packs"]!.AsArray().Select(p => p!).ToList();
        Assert.That(packs.Where(p => Eur(p) is not null), Is.Not.Empty, "some pack is sold in euros");

        // A fresh load: the screens read before the subscription (made through the API) keep their answers for a while.
        await page.GotoAsync($"{tenantUrl}/billing");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("starter");
        await Expect(page.GetByTestId("billing-cycle")).ToContainTextAsync("Billed monthly");
        foreach (var plan in euroPlans)
        {
            var card = page.GetByTestId($"plan-{plan["id"]}").GetByTestId("plan-price");
            await Expect(card).ToHaveTextAsync($"{Money("eur", (long)Eur(plan)!["monthly_cents"]!)} / month");
        }
        foreach (var pack in packs.Where(p => Eur(p) is not null))
        {
            var button = page.GetByTestId($"pack-{pack["id"]}");
            await Expect(button).ToContainTextAsync(Money("eur", (long)Eur(pack)!["price_cents"]!));
            await Expect(button).Not.ToContainTextAsync("$");
        }
        // No plan card or pack shows a dollar figure.
        await Expect(page.GetByTestId("plan-price").Filter(new() { HasText = "$" })).ToHaveCountAsync(0);
        await TenantScreensTests.CheckBothWidthsAsync(browser, "billing-eur");

        browser.AssertNoProblems();
    }
}
