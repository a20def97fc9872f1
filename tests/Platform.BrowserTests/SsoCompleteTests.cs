using System.Buffers.Text;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 12's SSO landing page: the callback sends the browser to /sso/complete#code=… (ADR 0620); the page trades the one-time code for
/// a session with the HttpOnly refresh cookie, takes the code out of the address bar and lands on the dashboard, and a reload keeps the session;
/// a used code shows the problem and the way back to sign in.</summary>
public sealed class SsoCompleteTests
{
    [Test]
    public async Task The_completion_page_trades_the_code_for_a_session_that_survives_a_reload_and_a_used_code_is_refused()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var email = $"sso-{suffix}@example.test";
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var signup = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/signup", new { email, password = "correct horse battery", name = "Sam Sso" }));
        var userId = Guid.Parse((string)signup["user"]!["id"]!);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", (string)signup["access_token"]!);
        var tenant = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/tenants", new { name = "Sso " + suffix, slug = "sso-" + suffix, plan = "free" }));
        var tenantId = Guid.Parse((string)tenant["id"]!);

        // What the callback leaves after a sign-in the identity provider vouched for (the API tests drive that part against oidc-provider).
        var code = $"ssoc_{tenantId:N}.{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";
        await using (var db = new NpgsqlConnection(Environment.GetEnvironmentVariable("ConnectionStrings__PlatformOwner")))
        {
            await db.OpenAsync();
            await using var transaction = await db.BeginTransactionAsync();
            await using var command = new NpgsqlCommand(
                """
                SELECT set_config('app.tenant_id', @t, true);
                INSERT INTO sso_sign_in_codes (tenant_id, code_hash, user_id, created_at, expires_at) VALUES (@tid, @hash, @user, now(), now() + interval '5 minutes');
                """, db, transaction);
            command.Parameters.AddWithValue("t", tenantId.ToString());
            command.Parameters.AddWithValue("tid", tenantId);
            command.Parameters.AddWithValue("hash", SHA256.HashData(Encoding.UTF8.GetBytes(code)));
            command.Parameters.AddWithValue("user", userId);
            await command.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await page.GotoAsync("/sso/complete#code=" + code);
        await Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync(email);
        Assert.That(page.Url, Does.Not.Contain("code="), "the code leaves the address bar");
        var cookies = await browser.Context.CookiesAsync();
        Assert.That(cookies.Any(c => c.Name == "platform_refresh" && c.HttpOnly), Is.True);
        await page.ReloadAsync();
        await Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync(email);

        // The code worked once: another browser gets the problem and the way back to sign in.
        await using var other = await BrowserSession.OpenAsync();
        await other.Page.GotoAsync("/sso/complete#code=" + code);
        await Expect(other.Page.GetByRole(AriaRole.Heading, new() { Name = "Single sign-on did not complete" })).ToBeVisibleAsync();
        await other.Page.GetByRole(AriaRole.Link, new() { Name = "Back to sign in" }).ClickAsync();
        await Expect(other.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Platform" })).ToBeVisibleAsync();
    }
}
