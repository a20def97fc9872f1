using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Slices 3 and 4 of the dashboard: the overview (trial banner, usage cards, members, estimated cost, recent runs), the usage page
/// and the billing page, reached also from the alert emails' tenant-less /usage and /billing links; a run admitted with an API key shows.</summary>
public sealed partial class UsageBillingTests
{
    [Test]
    public async Task A_run_admitted_with_a_key_shows_on_the_overview_and_the_usage_and_billing_links_open_their_pages()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"usage-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Uma Usage", email, "Usage " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        // A new tenant is on a trial: the banner counts the days; nothing has run yet.
        await Expect(page.GetByTestId("trial-banner")).ToContainTextAsync(DaysLeft());
        await Expect(page.GetByTestId("members-count")).ToHaveTextAsync("1");
        await Expect(page.GetByTestId("estimated-cost")).ToHaveTextAsync(Money());
        await Expect(page.GetByText("No runs yet.", new() { Exact = false })).ToBeVisibleAsync();

        // An API client admits and completes a run with a key, as a worker would.
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var login = await Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = "correct horse battery" }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
        var key = await Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "worker", permissions = new[] { "runs:read", "runs:write", "usage:read" } }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)key["key"]!);
        var run = await Json(await http.PostAsJsonAsync("/v1/tenants/current/runs", new { worker_id = "summarizer", task = "summarise the dashboard" }));
        await Json(await http.PostAsJsonAsync($"/v1/tenants/current/runs/{run["id"]}/complete", new { success = true, total_tokens = 1200, latency_ms = 850 }));

        await page.ReloadAsync();
        var recent = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "summarise the dashboard" });
        await Expect(recent).ToContainTextAsync("succeeded");
        await Expect(recent).ToContainTextAsync("1,200");
        await Expect(page.GetByTestId("usage-figures").Filter(new() { HasText = "1,200" })).ToHaveCountAsync(1);
        await browser.CheckPageAsync("overview");

        // The usage alert email links to /usage without a tenant: it opens this tenant's usage page.
        await page.GotoAsync("/usage");
        await Expect(page).ToHaveURLAsync($"{tenantUrl}/usage");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Quotas this period" })).ToBeVisibleAsync();
        var tokens = page.Locator("[data-colour]").Filter(new() { HasText = "1,200" });
        await Expect(tokens).ToHaveAttributeAsync("data-colour", "green");
        await Expect(page.GetByTestId("resets-at")).ToContainTextAsync("Resets");
        await Expect(page.GetByTestId("estimate-total")).ToHaveTextAsync(new Regex(@"^Total \$[\d,]+\.\d\d$"));
        // The monthly rollups chart, or its empty state while the month has no rollup yet.
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new Regex("Usage by month") }).Or(page.GetByText("No usage recorded yet."))).ToBeVisibleAsync();
        await browser.CheckPageAsync("usage");

        // The billing email links to /billing: plan, catalogue, invoices and credits.
        await page.GotoAsync("/billing");
        await Expect(page).ToHaveURLAsync($"{tenantUrl}/billing");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("professional");
        await Expect(page.GetByTestId("plan-professional")).ToContainTextAsync("Current plan");
        await Expect(page.GetByTestId("credits-balance")).ToContainTextAsync("Balance:");

        // On a trial without a subscription any plan starts now; then an upgrade applies now and a downgrade at the period's end.
        await page.GetByTestId("plan-starter").GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToHaveTextAsync("You are now on the starter plan.");
        await Expect(page.GetByTestId("plan-starter")).ToContainTextAsync("Current plan");
        await page.GetByTestId("plan-professional").GetByRole(AriaRole.Button, new() { Name = "Upgrade now" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToHaveTextAsync("You are now on the professional plan.");
        await Expect(page.GetByTestId("current-plan")).ToContainTextAsync("professional");
        await page.GetByTestId("plan-starter").GetByRole(AriaRole.Button, new() { Name = "Downgrade at period end" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToContainTextAsync("The starter plan starts on");
        await Expect(page.GetByTestId("pending-plan")).ToContainTextAsync("Changes to starter");
        await Expect(page.GetByTestId("plan-professional")).ToContainTextAsync("Current plan");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel subscription" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Cancel at period end" }).ClickAsync();
        await Expect(page.GetByTestId("billing-notice")).ToContainTextAsync("The subscription ends on");
        await browser.CheckPageAsync("billing");

        browser.AssertNoProblems();
    }

    private static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}");
        return JsonNode.Parse(text)!;
    }

    [GeneratedRegex(@"\d+ days? left")]
    private static partial Regex DaysLeft();

    [GeneratedRegex(@"^\$[\d,]+\.\d\d$")]
    private static partial Regex Money();
}
