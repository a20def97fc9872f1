using Microsoft.Playwright;
using OtpNet;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Slice 6 of the dashboard: an operator signs in with password and TOTP at /admin, finds a tenant, suspends it (the tenant app
/// shows the suspended banner) and unsuspends it.</summary>
public sealed class OperatorConsoleTests
{
    [Test]
    public async Task An_operator_signs_in_with_totp_finds_a_tenant_and_suspends_and_unsuspends_it()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var owner = await BrowserSession.OpenAsync();
        var tenantName = "Ops " + suffix;
        await MembersTests.SignUpWithTenantAsync(owner.Page, "Owen Ops", $"ops-{suffix}@example.test", tenantName);

        await using var op = await BrowserSession.OpenAsync();
        var page = op.Page;
        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(BrowserFixture.BaseUrl + "/admin/signin");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Operator console" })).ToBeVisibleAsync();
        await op.CheckPageAsync("admin-sign-in");
        var (email, password, secret) = BrowserFixture.Operator;
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        // A wrong code is refused with the API's problem.
        var current = int.Parse(new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(), System.Globalization.CultureInfo.InvariantCulture);
        await page.GetByLabel("Authenticator code").FillAsync(((current + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(op.Page.GetByTestId("problem")).ToBeVisibleAsync();
        await page.GetByLabel("Authenticator code").FillAsync(new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();
        await page.GetByLabel("Search").FillAsync(suffix);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        // The search finds this tenant alone: the header row and one row.
        await Expect(page.GetByRole(AriaRole.Row)).ToHaveCountAsync(2);
        await Expect(page.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync(tenantName);
        await op.CheckPageAsync("admin-tenants");
        await page.GetByRole(AriaRole.Link, new() { Name = tenantName }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = tenantName })).ToBeVisibleAsync();
        await page.GetByLabel("Note").FillAsync("browser test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Suspend tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("admin-tenant-status")).ToHaveTextAsync("suspended");
        await op.CheckPageAsync("admin-tenant");

        // The tenant's owner sees the suspended banner with what to do.
        await owner.Page.ReloadAsync();
        await Expect(owner.Page.GetByTestId("status-banner")).ToContainTextAsync("suspended");

        await page.GetByRole(AriaRole.Button, new() { Name = "Unsuspend tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("admin-tenant-status")).Not.ToHaveTextAsync("suspended");
        await owner.Page.ReloadAsync();
        await Expect(owner.Page.GetByRole(AriaRole.Heading, new() { Name = tenantName })).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("status-banner")).ToHaveCountAsync(0);

        op.AssertNoProblems("401 /v1/admin/auth/login");
        owner.AssertNoProblems();
    }
}
