using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Slice 5 of the dashboard: an API key created in the page is shown once, copied, works for an HTTP call, and stops working once revoked.</summary>
public sealed class ApiKeysTests
{
    [Test]
    public async Task A_key_created_in_the_page_is_shown_once_copied_admits_a_run_and_is_refused_after_revocation()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await browser.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Kay Keys", $"keys-{suffix}@example.test", "Keys " + suffix);

        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await Expect(page.GetByText("No API keys yet.", new() { Exact = false })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name").FillAsync("worker one");
        await browser.CheckPageAsync("create-api-key");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();

        var secret = (await dialog.GetByTestId("new-key").TextContentAsync())!.Trim();
        Assert.That(secret, Has.Length.GreaterThan(20));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Copy key" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Copied" })).ToBeVisibleAsync();
        Assert.That(await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"), Is.EqualTo(secret));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        // Shown once: the list has the prefix only.
        var row = page.GetByTestId("key-worker one");
        await Expect(row.GetByTestId("key-status")).ToHaveTextAsync("active");
        Assert.That(await page.ContentAsync(), Does.Not.Contain(secret));
        await browser.CheckPageAsync("api-keys");

        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using (var admitted = await http.PostAsJsonAsync("/v1/tenants/current/runs", new { worker_id = "summarizer", task = "with the copied key" }))
        {
            Assert.That(admitted.StatusCode, Is.EqualTo(HttpStatusCode.Created), await admitted.Content.ReadAsStringAsync());
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke worker one" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Revoke key" }).ClickAsync();
        await Expect(row.GetByTestId("key-status")).ToHaveTextAsync("revoked");
        using (var refused = await http.GetAsync("/v1/tenants/current/runs"))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        Assert.That(page.Url, Does.StartWith(tenantUrl));
        browser.AssertNoProblems();
    }
}
