using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>The branding screen's logo image control (ADR 0779, 0805): a PNG the test writes is chosen, previewed, saved with the branding and
/// previewed again after a reload from GET …/branding/logo.png, then removed; a file that is not a PNG and a PNG over 64 KB are refused by the
/// server (422 naming logo_png), its message shown beside the control and nothing kept. Checked with axe at 1280 and 390 px.</summary>
public sealed class BrandingLogoTests
{
    // A 1x1 PNG.
    private static readonly byte[] Pixel = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    [Test]
    public async Task A_logo_PNG_is_chosen_previewed_saved_shown_after_a_reload_and_removed_and_the_servers_refusals_are_shown_beside_the_control()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"logo-{suffix}@example.test";
        var folder = Directory.CreateTempSubdirectory("platform-logo-");
        try
        {
            var png = Path.Combine(folder.FullName, "logo.png");
            await File.WriteAllBytesAsync(png, Pixel);
            var text = Path.Combine(folder.FullName, "logo.txt");
            await File.WriteAllTextAsync(text, "not an image");
            // A PNG with 70 KB after its end: a valid image to the browser, over the 64 KB the server keeps.
            var large = Path.Combine(folder.FullName, "large.png");
            await File.WriteAllBytesAsync(large, [.. Pixel, .. new byte[70 * 1024]]);

            await using var browser = await BrowserSession.OpenAsync();
            var page = browser.Page;
            var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Lou Logo", email, "Logo " + suffix);
            var tenantId = tenantUrl.Split('/').Last();
            using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
            var login = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/login", new { email, password = MembersTests.Password }));
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["access_token"]!);
            async Task<bool> HasLogo() => (bool)(await TenantScreensTests.Json(await http.GetAsync($"/v1/tenants/{tenantId}/branding")))["has_logo_png"]!;

            await page.GetByRole(AriaRole.Link, new() { Name = "Branding", Exact = true }).ClickAsync();
            var control = page.GetByTestId("logo-png");
            await Expect(control.GetByTestId("logo-png-none")).ToBeVisibleAsync();

            // Chosen: previewed at once, saved only with the branding.
            await page.GetByLabel("Logo image (PNG)").SetInputFilesAsync(png);
            var preview = control.GetByTestId("logo-png-preview");
            await Expect(preview).ToBeVisibleAsync();
            await Expect(control.GetByTestId("logo-png-unsaved")).ToBeVisibleAsync();
            Assert.That(await HasLogo(), Is.False, "nothing is sent before Save");
            await page.GetByLabel("Product name").FillAsync("Logo Cloud " + suffix);
            await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
            await Expect(page.GetByTestId("branding-saved")).ToBeVisibleAsync();
            Assert.That(await HasLogo(), Is.True);
            Assert.That(await (await http.GetAsync($"/v1/tenants/{tenantId}/branding/logo.png")).Content.ReadAsByteArrayAsync(), Is.EqualTo(Pixel));
            await TenantScreensTests.CheckBothWidthsAsync(browser, "branding-logo");

            // After a reload the preview is the kept image, read back from the API; saving another field keeps it.
            await page.ReloadAsync();
            await Expect(preview).ToBeVisibleAsync();
            // The kept 1x1 image, decoded from the bytes the API gave back.
            Assert.That(await preview.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)"), Is.EqualTo(1));
            await page.GetByLabel("Email sender name").FillAsync("Logo Support");
            await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
            await Expect(page.GetByTestId("branding-saved")).ToBeVisibleAsync();
            Assert.That(await HasLogo(), Is.True, "a save that did not touch the logo keeps it");

            // Removed, with the keyboard: gone after Save and after a reload.
            await control.GetByRole(AriaRole.Button, new() { Name = "Remove logo image" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(control.GetByTestId("logo-png-none")).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
            await Expect(page.GetByTestId("branding-saved")).ToBeVisibleAsync();
            Assert.That(await HasLogo(), Is.False);
            await page.ReloadAsync();
            await Expect(control.GetByTestId("logo-png-none")).ToBeVisibleAsync();

            // Not a PNG: the server's refusal beside the control, the control marked invalid, nothing kept.
            await page.GetByLabel("Logo image (PNG)").SetInputFilesAsync(text);
            await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
            var error = control.GetByTestId("logo-png-error");
            await Expect(error).ToHaveTextAsync("The logo must be a PNG image (base64 of the file).");
            await Expect(page.GetByLabel("Logo image (PNG)")).ToHaveAttributeAsync("aria-invalid", "true");
            await Expect(page.GetByTestId("branding-saved")).ToHaveCountAsync(0);
            await TenantScreensTests.CheckBothWidthsAsync(browser, "branding-logo-refused");

            // Too large: refused the same way.
            await page.GetByLabel("Logo image (PNG)").SetInputFilesAsync(large);
            await Expect(error).ToHaveCountAsync(0);
            await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
            await Expect(error).ToHaveTextAsync("The logo must be at most 64 KB.");
            Assert.That(await HasLogo(), Is.False);

            browser.AssertNoProblems($"422 /v1/tenants/{tenantId}/branding");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
