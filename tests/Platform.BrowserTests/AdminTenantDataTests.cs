using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using OtpNet;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's operator tenant detail and TOTP enrolment (ADR 0745): the operator closes a month, opens the tenant and sees its usage,
/// billing, invoice, members and keys, freezes and unfreezes a key and marks the invoice paid from their rows, each with a reason; an
/// operator without TOTP enrols from the QR code page (the test reads the secret from the page and computes the code) and signs in with it.</summary>
public sealed class AdminTenantDataTests
{
    [Test]
    public async Task The_tenant_detail_lists_usage_billing_invoices_members_and_keys_with_row_actions()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var tenantName = "Detail " + suffix;
        var ownerEmail = $"detail-{suffix}@example.test";
        using var http = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) };
        var signup = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/auth/signup", new { email = ownerEmail, password = "correct horse battery", name = "Dora Detail" }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)signup["access_token"]!);
        var tenant = await TenantScreensTests.Json(await http.PostAsJsonAsync("/v1/tenants", new { name = tenantName, slug = "detail-" + suffix, plan = "free" }));
        var tenantId = Guid.Parse((string)tenant["id"]!);
        var key = await TenantScreensTests.Json(await http.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "ci-" + suffix, permissions = new[] { "usage:read" } }));
        // A long-ended month with usage of this tenant only: the close invoices it and no tenant of another test.
        await InsertUsageAsync(tenantId, new DateTimeOffset(2021, 3, 1, 0, 0, 0, TimeSpan.Zero), "api_calls", 10_000_000);

        await using var op = await BrowserSession.OpenAsync();
        var page = op.Page;
        await AdminScreensTests.SignInOperatorAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Billing", Exact = true }).ClickAsync();
        await page.GetByLabel("Month (YYYY-MM)").FillAsync("2021-03");
        await page.GetByRole(AriaRole.Button, new() { Name = "Close period" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("invoices-created")).ToHaveTextAsync("1");

        await page.GetByRole(AriaRole.Link, new() { Name = "Tenants", Exact = true }).ClickAsync();
        await page.GetByLabel("Search").FillAsync(suffix);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = tenantName })).ToHaveCountAsync(1);
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-tenants-search");
        await page.GetByRole(AriaRole.Link, new() { Name = tenantName }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = tenantName })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("admin-usage").GetByTestId("usage-api_calls")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("admin-billing")).ToContainTextAsync("free");
        await Expect(page.GetByTestId("admin-member")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("admin-member")).ToContainTextAsync(ownerEmail);
        // Invoice numbers run across tenants: this tenant's one invoice is the only row, whatever its number.
        var invoice = page.Locator("[data-testid^='admin-invoice-']");
        await Expect(invoice).ToHaveCountAsync(1);
        await Expect(invoice.GetByTestId("invoice-status")).ToHaveTextAsync("open");
        var keyRow = page.GetByTestId($"admin-key-ci-{suffix}");
        await Expect(keyRow.GetByTestId("key-status")).ToHaveTextAsync("active");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-tenant-data");

        // Freeze from the row with a reason: the key is refused at once; unfreeze brings it back.
        await keyRow.GetByRole(AriaRole.Button, new() { Name = $"Freeze ci-{suffix}" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog);
        await dialog.GetByLabel("Reason note").FillAsync("leaked in a public repo");
        await op.CheckPageAsync("admin-key-freeze");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(keyRow.GetByTestId("key-status")).ToHaveTextAsync("frozen");
        await Expect(page.GetByTestId("action-api_key.freeze")).ToContainTextAsync("leaked in a public repo");
        using (var keyClient = new HttpClient { BaseAddress = new Uri(BrowserFixture.BaseUrl) })
        {
            keyClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)key["key"]!);
            using var refused = await keyClient.GetAsync($"/v1/tenants/{tenantId}/usage");
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            await keyRow.GetByRole(AriaRole.Button, new() { Name = $"Unfreeze ci-{suffix}" }).ClickAsync();
            await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
            await Expect(keyRow.GetByTestId("key-status")).ToHaveTextAsync("active");
            using var works = await keyClient.GetAsync($"/v1/tenants/{tenantId}/usage");
            Assert.That(works.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // Mark the listed invoice paid with its reason.
        await invoice.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Mark paid invoice \\d+$") }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByLabel("Reason code").FillAsync("bank_transfer");
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(invoice.GetByTestId("invoice-status")).ToHaveTextAsync("paid");
        await Expect(page.GetByTestId("admin-notice")).ToHaveTextAsync(new Regex("^Invoice \\d+ marked paid\\.$"));
        await Expect(page.GetByTestId("action-invoice.mark_paid")).ToContainTextAsync("bank_transfer");

        // The support queue at both widths (its tickets are covered by AdminScreensTests).
        await page.GetByRole(AriaRole.Link, new() { Name = "Support queue" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Support queue" })).ToBeVisibleAsync();
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-support-queue");

        op.AssertNoProblems();
    }

    [Test]
    public async Task An_operator_without_totp_enrols_from_the_qr_code_page_and_signs_in_with_a_code()
    {
        var email = $"enrol-{Guid.NewGuid():N}@browser.test";
        const string password = "operator password 2";
        await using (var scope = BrowserFixture.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(
                new Platform.Engines.Operators.CreateOperator(email, "Enrolling Operator", "support", password, EnableTotp: false));
        }
        await using var op = await BrowserSession.OpenAsync();
        var page = op.Page;
        await page.GotoAsync("/admin/signin");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-sign-in");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Set up TOTP" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start enrolment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of your TOTP secret" })).ToBeVisibleAsync();
        var secret = (await page.GetByTestId("totp-secret").InnerTextAsync()).Trim();
        Assert.That(Base32Encoding.ToBytes(secret), Has.Length.GreaterThanOrEqualTo(16), "the page shows the base32 secret");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-totp-enrolment");

        // A wrong code is refused with the API's problem; the right one enables TOTP and asks to sign in again.
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp();
        await page.GetByLabel("Code from your authenticator").FillAsync(code == "000000" ? "111111" : "000000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
        await page.GetByLabel("Code from your authenticator").FillAsync(code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("enrolled-notice")).ToBeVisibleAsync();

        // Without a code the password alone no longer signs in; with a code from the enrolled secret it does. The code is one of the next
        // step, so that it is not the one the confirmation used (a code is accepted once).
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
        await page.GetByLabel("Authenticator code").FillAsync(await NextCodeAsync(secret, code));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Set up TOTP" })).ToHaveCountAsync(0);

        op.AssertNoProblems("422 /v1/admin/auth/totp/confirm", "401 /v1/admin/auth/login");
    }

    /// <summary>Waits for the TOTP step after the one that gave <paramref name="used"/> and returns its code.</summary>
    internal static async Task<string> NextCodeAsync(string secret, string used)
    {
        var totp = new Totp(Base32Encoding.ToBytes(secret));
        while (totp.ComputeTotp() == used)
        {
            await Task.Delay(500);
        }
        return totp.ComputeTotp();
    }

    /// <summary>Records usage of a meter in a month as the schema owner, inside the tenant's row-level security scope.</summary>
    private static async Task InsertUsageAsync(Guid tenantId, DateTimeOffset periodStart, string meter, decimal quantity)
    {
        await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("ConnectionStrings__PlatformOwner"));
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, tx))
        {
            scope.Parameters.AddWithValue("t", tenantId.ToString());
            await scope.ExecuteScalarAsync();
        }
        await using (var insert = new NpgsqlCommand("INSERT INTO billing_usage_inputs (tenant_id, period_start, meter, quantity) VALUES (@t, @p, @m, @q)", connection, tx))
        {
            insert.Parameters.AddWithValue("t", tenantId);
            insert.Parameters.AddWithValue("p", periodStart);
            insert.Parameters.AddWithValue("m", meter);
            insert.Parameters.AddWithValue("q", quantity);
            await insert.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }
}
