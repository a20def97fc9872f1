using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 12's screens (ADR 0675): branding edited with a live preview, saved and read back on reload, refused by a plan without the
/// feature as an upgrade state, and shown on the sign-in page of the tenant's host; a custom domain added (its name normalised) with its TXT
/// instructions, verified (no name server answers here, so the result is not "verified") and deleted after a confirmation.</summary>
public sealed class BrandingDomainsTests
{
    private const string Password = "correct horse battery";

    // A 1x1 PNG: the logo URL points at a host of the reserved .test domain, answered inside the browser so no request leaves the machine.
    private static readonly byte[] Pixel = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private static async Task<HttpClient> SignedInClientAsync(string email)
    {
        var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = Password }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
        return http;
    }

    [Test]
    public async Task Branding_is_previewed_saved_persisted_and_shown_on_the_tenant_hosts_sign_in_page_and_a_free_plan_sees_the_upgrade_state()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"brand-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var logos = 0;
        await browser.Context.RouteAsync("https://cdn.example.test/**", async route =>
        {
            Interlocked.Increment(ref logos);
            await route.FulfillAsync(new() { Status = 200, ContentType = "image/png", BodyBytes = Pixel });
        });
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Bea Brand", email, "Brand " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        await page.GetByRole(AriaRole.Link, new() { Name = "Branding", Exact = true }).ClickAsync();
        var preview = page.GetByTestId("branding-preview");
        await Expect(preview.GetByTestId("preview-name")).ToHaveTextAsync("Brand " + suffix);

        // Bad values are named before anything is sent.
        await page.GetByLabel("Logo URL").FillAsync("http://cdn.example.test/logo.png");
        await page.GetByLabel("Primary colour").FillAsync("orange");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
        await Expect(page.GetByText("Enter an https URL")).ToBeVisibleAsync();
        await Expect(page.GetByText("Enter a colour as #rrggbb")).ToBeVisibleAsync();

        // The preview follows the form as it is typed.
        await page.GetByLabel("Product name").FillAsync("Acme Cloud " + suffix);
        await page.GetByLabel("Logo URL").FillAsync("https://cdn.example.test/acme/logo.png");
        await page.GetByLabel("Primary colour").FillAsync("#1A4D8F");
        await page.GetByLabel("Email sender name").FillAsync("Acme Support");
        await Expect(preview.GetByTestId("preview-name")).ToHaveTextAsync("Acme Cloud " + suffix);
        await Expect(preview.GetByTestId("preview-logo")).ToHaveAttributeAsync("src", "https://cdn.example.test/acme/logo.png");
        await Expect(preview.GetByTestId("preview-bar")).ToHaveAttributeAsync("data-color", "#1A4D8F");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
        await Expect(page.GetByTestId("branding-saved")).ToBeVisibleAsync();
        await TenantScreensTests.CheckBothWidthsAsync(browser, "branding");

        // Persisted: a reload reads it back from the API (the colour as the API stores it, in lower case).
        await page.ReloadAsync();
        await Expect(page.GetByLabel("Product name")).ToHaveValueAsync("Acme Cloud " + suffix);
        await Expect(page.GetByLabel("Logo URL")).ToHaveValueAsync("https://cdn.example.test/acme/logo.png");
        await Expect(page.GetByLabel("Primary colour")).ToHaveValueAsync("#1a4d8f");
        await Expect(page.GetByLabel("Email sender name")).ToHaveValueAsync("Acme Support");
        await Expect(preview.GetByTestId("preview-logo")).ToBeVisibleAsync();

        using var http = await SignedInClientAsync(email);
        var tenant = await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}"));
        var slug = (string)tenant["slug"]!;
        var port = new Uri(BrowserFixture.BaseUrl).Port;

        // The sign-in page of the tenant's host (*.localhost is loopback) shows its product name, logo and colour.
        await using (var visitor = await BrowserSession.OpenAsync())
        {
            await visitor.Context.RouteAsync("https://cdn.example.test/**", route => route.FulfillAsync(new() { Status = 200, ContentType = "image/png", BodyBytes = Pixel }));
            await visitor.Page.GotoAsync($"http://{slug}.platform.localhost:{port}/signin");
            await Expect(visitor.Page.GetByRole(AriaRole.Heading, new() { Name = $"Sign in to Acme Cloud {suffix}" })).ToBeVisibleAsync();
            await Expect(visitor.Page.GetByTestId("brand-logo")).ToHaveAttributeAsync("src", "https://cdn.example.test/acme/logo.png");
            await Expect(visitor.Page.GetByTestId("auth-card")).ToHaveAttributeAsync("data-brand-color", "#1a4d8f");
            await TenantScreensTests.CheckBothWidthsAsync(visitor, "signin-branded");

            // The platform's own host keeps the default look and asks nothing.
            await visitor.Page.GotoAsync($"{BrowserFixture.BaseUrl}/signin");
            await Expect(visitor.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Platform" })).ToBeVisibleAsync();
            await Expect(visitor.Page.GetByTestId("brand-logo")).ToHaveCountAsync(0);
            visitor.AssertNoProblems();
        }
        Assert.That(logos, Is.GreaterThan(0), "the preview loaded the logo");

        // A tenant on the free plan: the 403 feature_not_in_plan is an upgrade state, not an error.
        var free = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/tenants", new { name = "Free " + suffix, slug = "free-" + suffix, plan = "free" }));
        var freeId = (string)free["id"]!;
        await page.GotoAsync($"/t/{freeId}/branding");
        await Expect(page.GetByTestId("upgrade")).ToContainTextAsync("Upgrade to use branding");
        await Expect(page.GetByLabel("Product name")).ToHaveCountAsync(0);
        await TenantScreensTests.CheckBothWidthsAsync(browser, "branding-upgrade");

        browser.AssertNoProblems($"403 /v1/tenants/{freeId}/branding");
    }

    [Test]
    public async Task A_custom_domain_is_added_normalised_with_its_TXT_instructions_verified_and_deleted_after_a_confirmation()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await browser.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = BrowserFixture.BaseUrl });
        await MembersTests.SignUpWithTenantAsync(page, "Dora Domains", $"domains-{suffix}@example.test", "Domains " + suffix);

        await page.GetByRole(AriaRole.Link, new() { Name = "Domains", Exact = true }).ClickAsync();
        await Expect(page.GetByText("No custom domains yet.")).ToBeVisibleAsync();
        await TenantScreensTests.CheckBothWidthsAsync(browser, "domains-empty");

        await page.GetByRole(AriaRole.Button, new() { Name = "Add domain" }).ClickAsync();
        await Expect(page.GetByText("Enter a domain name")).ToBeVisibleAsync();
        // The API's refusal of a name that is not one is shown with its field.
        await page.GetByLabel("Domain name").FillAsync("not a domain");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add domain" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("name");

        var name = $"shop-{suffix}.example.test";
        await page.GetByLabel("Domain name").FillAsync($"Shop-{suffix}.Example.TEST.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add domain" }).ClickAsync();
        await Expect(page.GetByTestId("domain-added")).ToContainTextAsync($"Added {name}.");
        var row = page.GetByTestId("domain-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("domain-name")).ToHaveTextAsync(name);
        await Expect(row.GetByTestId("domain-status")).ToHaveTextAsync("pending");
        await Expect(row.GetByTestId("txt-name")).ToHaveTextAsync($"_platform-challenge.{name}");
        var token = (await row.GetByTestId("txt-value").TextContentAsync())!.Trim();
        Assert.That(token, Has.Length.GreaterThan(16));
        await row.GetByRole(AriaRole.Button, new() { Name = "Copy token" }).ClickAsync();
        await Expect(row.GetByTestId("copy-token")).ToHaveTextAsync("Copied");
        Assert.That(await page.EvaluateAsync<string>("navigator.clipboard.readText()"), Is.EqualTo(token));
        await TenantScreensTests.CheckBothWidthsAsync(browser, "domains");

        // No record is published (and no name server answers here): the check is recorded and is not "verified".
        await row.GetByRole(AriaRole.Button, new() { Name = $"Verify {name}" }).ClickAsync();
        await Expect(row.GetByTestId("verify-result")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Checked: (pending|failed)"));
        await Expect(row.GetByTestId("domain-status")).Not.ToHaveTextAsync("verified");
        await Expect(row.GetByTestId("domain-error")).ToBeVisibleAsync();

        // Delete asks first; cancel keeps it, confirm removes it.
        await row.GetByRole(AriaRole.Button, new() { Name = $"Delete {name}" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Alertdialog);
        await Expect(confirm).ToContainTextAsync($"Delete {name}?");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(1);
        await row.GetByRole(AriaRole.Button, new() { Name = $"Delete {name}" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Delete domain" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.GetByText("No custom domains yet.")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Expect(page.GetByText("No custom domains yet.")).ToBeVisibleAsync();

        browser.AssertNoProblems("422 /v1/tenants/");
    }
}
