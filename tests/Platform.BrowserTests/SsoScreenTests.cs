using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>The SSO settings screen (issue 13's "SSO settings", ADR 0620's routes): not configured is an empty form (without a refused request, ADR 0785), saving stores the settings
/// with a write-only client secret and the group roles, a reload shows them, and removing asks first and empties the form again.
/// Checked with axe at 1280 and 390 px.</summary>
public sealed class SsoScreenTests
{
    [Test]
    public async Task An_admin_configures_sso_sees_it_after_a_reload_and_removes_it()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Sam Sso", $"sso-{suffix}@example.test", "Sso " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        // A professional trial has no SSO: the screen shows what to do about it instead of an error.
        await page.GetByRole(AriaRole.Link, new() { Name = "SSO", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync($"{tenantUrl}/sso");
        await Expect(page.GetByTestId("upgrade")).ToContainTextAsync("the Enterprise plan does");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save SSO settings" })).ToHaveCountAsync(0);

        // On enterprise, not configured is an empty form.
        using (var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) })
        {
            var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email = $"sso-{suffix}@example.test", password = "correct horse battery" }));
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
            await TenantScreensTests.Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = "enterprise", billing_cycle = "monthly" }));
        }
        await page.ReloadAsync();
        await Expect(page.GetByTestId("sso-status")).ToContainTextAsync("Not configured");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Remove SSO" })).ToHaveCountAsync(0);
        await TenantScreensTests.CheckBothWidthsAsync(browser, "sso-empty");

        // A domain must be a verified custom domain of the tenant first: the refusal shows its title and detail.
        var domain = $"corp-{suffix}.example.test";
        await page.GetByLabel("Issuer URL (https)").FillAsync("https://login.example.test/tenant");
        await page.GetByLabel("Client ID").FillAsync("platform-dashboard");
        await page.GetByLabel("Client secret").FillAsync("s3cret-of-the-idp");
        await page.GetByLabel("Email domains (comma separated)").FillAsync($"{domain.ToUpperInvariant()}, {domain}");
        await page.GetByLabel("Group claim (optional)").FillAsync("groups");
        await page.GetByLabel("Group roles (one \"group role\" a line)").FillAsync("eng admin\nsales viewer");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save SSO settings" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"not verified custom domains of the tenant: {domain}");
        await page.GetByLabel("Email domains (comma separated)").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save SSO settings" }).ClickAsync();
        await Expect(page.GetByTestId("sso-saved")).ToHaveTextAsync("SSO settings saved.");
        await Expect(page.GetByTestId("sso-status")).ToContainTextAsync("Configured");
        // The secret is write-only: the field empties and says one is stored.
        await Expect(page.GetByLabel("Client secret (stored; leave empty to keep it)")).ToHaveValueAsync("");

        await page.ReloadAsync();
        await Expect(page.GetByLabel("Issuer URL (https)")).ToHaveValueAsync("https://login.example.test/tenant");
        await Expect(page.GetByLabel("Client ID")).ToHaveValueAsync("platform-dashboard");
        await Expect(page.GetByLabel("Group roles (one \"group role\" a line)")).ToHaveValueAsync("eng admin\nsales viewer");
        await TenantScreensTests.CheckBothWidthsAsync(browser, "sso-configured");

        // A bad group-roles line is refused in the page, naming the line, and nothing is sent.
        await page.GetByLabel("Group roles (one \"group role\" a line)").FillAsync("eng owner");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save SSO settings" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("Line 1");

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove SSO" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.GetByTestId("sso-saved")).ToContainTextAsync("SSO removed");
        await Expect(page.GetByTestId("sso-status")).ToContainTextAsync("Not configured");
        await Expect(page.GetByLabel("Issuer URL (https)")).ToHaveValueAsync("");

        // The plan gate's 403 and the unverified domain's 409 are the only refusals: "not configured" is an answer (GET …/sso/status), never a 404.
        Assert.That(browser.Problems.Where(p => p.Contains("status of 404", StringComparison.Ordinal)), Is.Empty, "not configured is not a 404");
        browser.AssertNoProblems($"403 /v1/tenants/{tenantId}/sso", $"409 /v1/tenants/{tenantId}/sso");
    }
}
