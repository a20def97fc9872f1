using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's missing tenant screens: runs (list, filter, detail), workers, audit log, settings (rename persists) and the profile
/// with its sessions (one revoked); each visited with the axe check and a screenshot at 1280 and 390 px.</summary>
public sealed class TenantScreensTests
{
    private const string Password = "correct horse battery";

    /// <summary>Checks the page with axe and keeps a screenshot at the desktop and the phone widths, then goes back to the desktop width.</summary>
    internal static async Task CheckBothWidthsAsync(BrowserSession browser, string name)
    {
        await browser.CheckPageAsync(name + "-1280");
        await browser.Page.SetViewportSizeAsync(390, 844);
        await browser.CheckPageAsync(name + "-390");
        await browser.Page.SetViewportSizeAsync(1280, 860);
    }

    internal static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Test]
    public async Task A_run_admitted_by_a_key_is_listed_filtered_and_detailed_and_the_workers_are_listed()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"runs-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Rita Runs", email, "Runs " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        await page.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true }).ClickAsync();
        await Expect(page.GetByText("No runs yet.", new() { Exact = false })).ToBeVisibleAsync();

        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var login = await Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = Password }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
        var key = await Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "runner", permissions = new[] { "runs:read", "runs:write" } }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)key["key"]!);
        var done = await Json(await http.PostAsJsonAsync("/v1/tenants/current/runs", new { worker_id = "summarizer", task = "finished by the key" }));
        await Json(await http.PostAsJsonAsync($"/v1/tenants/current/runs/{done["id"]}/complete", new { success = true, total_tokens = 1200, latency_ms = 850 }));
        await Json(await http.PostAsJsonAsync("/v1/tenants/current/runs", new { worker_id = "summarizer", task = "still running" }));

        await page.ReloadAsync();
        var rows = page.Locator("main").GetByRole(AriaRole.Row);
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(rows.Filter(new() { HasText = "finished by the key" })).ToContainTextAsync("succeeded");
        await Expect(rows.Filter(new() { HasText = "still running" })).ToContainTextAsync("running");
        await Expect(page.GetByTestId("page-number")).ToHaveTextAsync("Page 1");
        await CheckBothWidthsAsync(browser, "runs");

        // The status filter asks the API for the succeeded runs only.
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Status" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "succeeded" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(1)).ToContainTextAsync("finished by the key");
        // A worker no run used: the empty state of a filtered list.
        await page.GetByLabel("Worker").FillAsync("nobody");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByText("No run matches these filters.")).ToBeVisibleAsync();
        await page.GetByLabel("Worker").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "finished by the key" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "finished by the key" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("run-tokens")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^1,200"));
        await Expect(page.GetByTestId("run-latency")).ToHaveTextAsync("850 ms");
        await Expect(page.GetByTestId("run-actor")).ToContainTextAsync((string)key["id"]!);
        await CheckBothWidthsAsync(browser, "run-detail");

        // Another tenant's run id is the API's 404, shown as a problem.
        await page.GotoAsync($"{tenantUrl}/runs/{Guid.NewGuid()}");
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();

        await page.GotoAsync($"{tenantUrl}/workers");
        await Expect(page.GetByTestId("worker-summarizer")).ToBeVisibleAsync();
        await CheckBothWidthsAsync(browser, "workers");

        // The tenant's config of a worker: today's runs counted, an invalid JSON named before sending, a limit saved and read back.
        await page.GetByRole(AriaRole.Button, new() { Name = "Configure summarizer", Exact = false }).First.ClickAsync();
        var config = page.GetByRole(AriaRole.Dialog);
        await Expect(config.GetByTestId("worker-runs-today")).ToHaveTextAsync("Runs today: 2");
        await config.GetByLabel("Config (JSON)").FillAsync("{oops");
        await config.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(config.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Config: Not valid JSON");
        await config.GetByLabel("Config (JSON)").FillAsync("{\"tone\": \"brief\"}");
        await config.GetByLabel("Runs per day").FillAsync("5");
        await config.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(config.GetByTestId("worker-config-saved")).ToBeVisibleAsync();
        await browser.CheckPageAsync("worker-config");
        await config.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Configure summarizer", Exact = false }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog).GetByLabel("Runs per day")).ToHaveValueAsync("5");
        await Expect(page.GetByRole(AriaRole.Dialog).GetByLabel("Config (JSON)")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"tone\": \"brief\""));

        // The overview's recent runs open the same detail.
        await page.GotoAsync(tenantUrl);
        await page.GetByRole(AriaRole.Link, new() { Name = "finished by the key" }).ClickAsync();
        await Expect(page.GetByTestId("run-latency")).ToHaveTextAsync("850 ms");

        browser.AssertNoProblems($"404 /v1/tenants/{tenantId}/runs/");
    }

    [Test]
    public async Task A_rename_in_settings_persists_and_shows_in_the_audit_log_and_a_session_is_revoked_from_the_profile()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"settings-{suffix}@example.test";
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Sam Settings", email, "Settings " + suffix);

        await page.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }).ClickAsync();
        var name = page.GetByLabel("Tenant name");
        await Expect(name).ToHaveValueAsync("Settings " + suffix);
        await name.FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByText("Enter a name")).ToBeVisibleAsync();
        await name.FillAsync("Renamed " + suffix);
        await page.GetByLabel("Billing email").FillAsync($"billing-{suffix}@example.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("settings-saved")).ToBeVisibleAsync();
        await CheckBothWidthsAsync(browser, "settings");

        // Persisted: a reload reads it back from the API, and the heading and the switcher show it.
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Renamed " + suffix })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Tenant name")).ToHaveValueAsync("Renamed " + suffix);
        await Expect(page.GetByLabel("Billing email")).ToHaveValueAsync($"billing-{suffix}@example.test");

        // The delete button stays disabled until the slug is typed exactly.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete tenant" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Alertdialog);
        await Expect(confirm.GetByRole(AriaRole.Button, new() { Name = "Delete forever" })).ToBeDisabledAsync();
        await confirm.GetByLabel("Slug").FillAsync("not-the-slug");
        await Expect(confirm.GetByRole(AriaRole.Button, new() { Name = "Delete forever" })).ToBeDisabledAsync();
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // The audit log lists the rename, and its action filter narrows to it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await Expect(page.GetByTestId("audit-row").Filter(new() { HasText = "tenant.updated" })).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("audit-row").Filter(new() { HasText = "tenant.created" })).ToHaveCountAsync(1);
        await page.GetByLabel("Action").FillAsync("tenant.updated");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByTestId("audit-row")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("audit-row")).ToContainTextAsync("tenant.updated");
        await CheckBothWidthsAsync(browser, "audit-log");

        // A second sign-in elsewhere (an HTTP client) is a second session; the profile lists both and revokes the other one.
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var other = await Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = Password }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)other["access_token"]!);
        using (var before = await http.GetAsync("/v1/me"))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        await page.GetByRole(AriaRole.Link, new() { Name = "Profile" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Profile" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("session-row")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("session-row").Filter(new() { HasText = "this browser" })).ToHaveCountAsync(1);
        await CheckBothWidthsAsync(browser, "profile");
        var otherRow = page.GetByTestId("session-row").Filter(new() { HasNotText = "this browser" });
        await otherRow.GetByRole(AriaRole.Button).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Revoke session" }).ClickAsync();
        await Expect(page.GetByTestId("session-row")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("session-row")).ToContainTextAsync("this browser");
        using (var after = await http.GetAsync("/v1/me"))
        {
            Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        // The profile's name change persists.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Samantha Settings");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("profile-saved")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("Samantha Settings");
        // A wrong current password is the API's refusal, shown with its title.
        await page.GetByLabel("Current password").FillAsync("wrong password here");
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("another good password");
        await page.GetByLabel("Repeat the new password").FillAsync("another good password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
        Assert.That(page.Url, Does.Not.StartWith(tenantUrl));

        browser.AssertNoProblems("422 /v1/me/password");
    }
}
