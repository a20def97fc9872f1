using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>The usage screen's daily chart of a month per meter (ADR 0740), with a month picker and its empty state; the billing screen's
/// offline path for credit packs (balance and ledger refetch), no portal button without Stripe, and the messages of Checkout's return URL.
/// Each page is checked with axe at 1280 and 390 px.</summary>
public sealed class DailyUsageAndCheckoutTests
{
    [Test]
    public async Task The_daily_chart_shows_each_meter_of_the_chosen_month_and_a_month_without_usage_is_empty()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"daily-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Dana Daily", email, "Daily " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        var now = DateTimeOffset.UtcNow;
        var thisMonth = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var lastMonth = thisMonth.AddMonths(-1);
        var twoMonthsAgo = thisMonth.AddMonths(-2);
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = "correct horse battery" }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
        await TenantScreensTests.Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "tokens", amount = 1200, idempotency_key = "t1", occurred_at = now.AddMinutes(-1) },
            new { meter = "gpu_hours", amount = 1.25m, idempotency_key = "g1", occurred_at = lastMonth.AddDays(2) },
            new { meter = "gpu_hours", amount = 1.25m, idempotency_key = "g2", occurred_at = lastMonth.AddDays(9) },
        }));

        await page.GotoAsync($"{tenantUrl}/usage");
        var label = (DateTimeOffset m) => m.ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Daily usage" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = $"Tokens per day in {label(thisMonth)}" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("daily-tokens").GetByTestId("daily-total")).ToContainTextAsync($"1,200 in {label(thisMonth)}");
        await Expect(page.GetByTestId("daily-gpu_hours")).ToHaveCountAsync(0);
        await TenantScreensTests.CheckBothWidthsAsync(browser, "usage-daily");

        // Last month: the GPU hours of two days, 2.5 in all; no tokens.
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Month" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = label(lastMonth) }).ClickAsync();
        await Expect(page.GetByTestId("daily-gpu_hours").GetByTestId("daily-total")).ToContainTextAsync($"2.5 in {label(lastMonth)}");
        await Expect(page.GetByTestId("daily-tokens")).ToHaveCountAsync(0);

        // A month without usage has the empty state.
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Month" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = label(twoMonthsAgo) }).ClickAsync();
        await Expect(page.GetByText($"No usage recorded in {label(twoMonthsAgo)}.")).ToBeVisibleAsync();
        await TenantScreensTests.CheckBothWidthsAsync(browser, "usage-daily-empty");

        browser.AssertNoProblems();
    }

    [Test]
    public async Task Offline_a_pack_is_bought_at_once_the_ledger_refreshes_and_the_checkout_return_says_what_happened()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Carl Checkout", $"checkout-{suffix}@example.test", "Checkout " + suffix);

        await page.GotoAsync($"{tenantUrl}/billing");
        await Expect(page.GetByTestId("credits-balance")).ToContainTextAsync("Balance:");
        var before = long.Parse(Regex.Match(await page.GetByTestId("credits-balance").InnerTextAsync(), @"Balance:\s*([\d,]+)").Groups[1].Value.Replace(",", ""),
            CultureInfo.InvariantCulture);
        // Without Stripe there is no portal to manage a card in.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Manage payment method" })).ToHaveCountAsync(0);

        var pack = page.GetByTestId("pack-credits_500");
        await Expect(pack).ToContainTextAsync("Buy 500 credits");
        // Priced in the tenant's billing currency (USD by default here), which the purchase charges, not in the pack's primary currency (EUR 7.00).
        await Expect(pack).ToContainTextAsync("$7.70");
        await pack.ClickAsync();
        await Expect(page.GetByTestId("credits-notice")).ToHaveTextAsync("500 credits added.");
        await Expect(page.GetByTestId("credits-balance")).ToContainTextAsync((before + 500).ToString("N0", CultureInfo.InvariantCulture));
        // The ledger refetches: the purchase's row, with the balance after it.
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "purchase" })
            .Filter(new() { HasText = (before + 500).ToString("N0", CultureInfo.InvariantCulture) })).ToHaveCountAsync(1);
        await TenantScreensTests.CheckBothWidthsAsync(browser, "billing-packs");

        // Stripe sends the customer back to /billing?checkout=success or cancel: the screen says what happened and drops the parameter.
        await page.GotoAsync($"{tenantUrl}/billing?checkout=success");
        await Expect(page.GetByTestId("checkout-notice")).ToContainTextAsync("Payment received");
        await Expect(page).ToHaveURLAsync($"{tenantUrl}/billing");
        await TenantScreensTests.CheckBothWidthsAsync(browser, "billing-checkout-success");
        await page.GotoAsync($"{tenantUrl}/billing?checkout=cancel");
        await Expect(page.GetByTestId("checkout-notice")).ToContainTextAsync("nothing was charged");
        await Expect(page).ToHaveURLAsync($"{tenantUrl}/billing");

        browser.AssertNoProblems();
    }
}
