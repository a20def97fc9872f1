using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's plan change in both billing cycles the API sells (ADR 0785): without a subscription the owner picks Annual, sees yearly
/// prices, subscribes annually (the API records the annual cycle and a year-long period); an upgrade then keeps the subscription's cycle,
/// which the screen says instead of offering a choice the API would refuse. Checked with axe at 1280 and 390 px.</summary>
public sealed class BillingCycleTests
{
    [Test]
    public async Task An_owner_subscribes_annually_at_yearly_prices_and_an_upgrade_keeps_the_annual_cycle()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"cycle-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Cyd Cycle", email, "Cycle " + suffix);
        var tenantId = tenantUrl.Split('/').Last();
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var plans = (await TenantScreensTests.Json(await http.GetAsync("/v1/plans")))["data"]!.AsArray();
        long Price(string plan, string field) => (long)plans.Single(p => (string)p!["id"]! == plan)![field]!;
        static string Money(long cents) => "$" + (cents / 100).ToString("N0", CultureInfo.InvariantCulture) + "." + (cents % 100).ToString("00", CultureInfo.InvariantCulture);
        Assert.That(Price("starter", "price_yearly_cents"), Is.Not.EqualTo(Price("starter", "price_monthly_cents")), "the catalogue prices the cycles apart");

        await page.GetByRole(AriaRole.Link, new() { Name = "Billing", Exact = true }).ClickAsync();
        var cycle = page.GetByRole(AriaRole.Radiogroup, new() { Name = "Billing cycle" });
        await Expect(cycle.GetByRole(AriaRole.Radio, new() { Name = "Monthly" })).ToBeCheckedAsync();
        await Expect(page.GetByTestId("plan-starter").GetByTestId("plan-price")).ToHaveTextAsync($"{Money(Price("starter", "price_monthly_cents"))} / month");

        await cycle.GetByRole(AriaRole.Radio, new() { Name = "Annual" }).ClickAsync();
        await Expect(page.GetByTestId("plan-starter").GetByTestId("plan-price")).ToHaveTextAsync($"{Money(Price("starter", "price_yearly_cents"))} / year");
        await Expect(page.GetByTestId("plan-professional").GetByTestId("plan-price")).ToHaveTextAsync($"{Money(Price("professional", "price_yearly_cents"))} / year");
        await TenantScreensTests.CheckBothWidthsAsync(browser, "billing-cycle-annual");

        await page.GetByTestId("plan-starter").GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToHaveTextAsync("You are now on the starter plan.");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("annual");
        // A live subscription keeps its cycle: no choice is offered, the screen says which, and prices stay yearly.
        await Expect(page.GetByRole(AriaRole.Radiogroup, new() { Name = "Billing cycle" })).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("billing-cycle")).ToContainTextAsync("Billed annually");

        var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = MembersTests.Password }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
        var subscription = (await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}/billing")))["subscription"]!;
        Assert.That((string?)subscription["billing_cycle"], Is.EqualTo("annual"));
        var start = DateTimeOffset.Parse((string)subscription["current_period_start"]!, CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse((string)subscription["current_period_end"]!, CultureInfo.InvariantCulture);
        Assert.That(end, Is.EqualTo(start.AddYears(1)).Within(TimeSpan.FromMinutes(1)), "an annual period lasts a year");

        await page.GetByTestId("plan-professional").GetByRole(AriaRole.Button, new() { Name = "Upgrade now" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToHaveTextAsync("You are now on the professional plan.");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("professional");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("annual");
        var upgraded = (await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}/billing")))["subscription"]!;
        Assert.That(((string?)upgraded["plan"], (string?)upgraded["billing_cycle"]), Is.EqualTo(("professional", "annual")));
        await TenantScreensTests.CheckBothWidthsAsync(browser, "billing-cycle-live");

        browser.AssertNoProblems();
    }
}
