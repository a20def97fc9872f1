using Microsoft.Playwright;
using OtpNet;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's support screens and operator console actions: a tenant opens a ticket, the operator answers and resolves it from the
/// queue; the operator suspends a tenant and reverses the founder action from the tenant's action list; an unknown invoice's mark-paid
/// shows the API's problem; the founder actions, billing close and operator management screens work.</summary>
public sealed class AdminScreensTests
{
    internal static async Task SignInOperatorAsync(IPage page)
    {
        var (email, password, secret) = BrowserFixture.Operator;
        await page.GotoAsync("/admin/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByLabel("Authenticator code").FillAsync(new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();
    }

    [Test]
    public async Task A_ticket_opened_by_a_tenant_is_answered_and_resolved_by_an_operator_who_also_reverses_a_suspension()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var tenantName = "Console " + suffix;
        await using var owner = await BrowserSession.OpenAsync();
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(owner.Page, "Cora Console", $"console-{suffix}@example.test", tenantName);
        var tenantId = tenantUrl.Split('/').Last();

        // The tenant opens a ticket.
        await owner.Page.GetByRole(AriaRole.Link, new() { Name = "Support" }).ClickAsync();
        await Expect(owner.Page.GetByText("No support tickets", new() { Exact = false })).ToBeVisibleAsync();
        await owner.Page.GetByRole(AriaRole.Button, new() { Name = "Open a ticket" }).ClickAsync();
        var dialog = owner.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Open ticket" }).ClickAsync();
        await Expect(dialog.GetByText("Enter a subject")).ToBeVisibleAsync();
        await dialog.GetByLabel("Subject").FillAsync($"Runs stuck {suffix}");
        await dialog.GetByLabel("Description").FillAsync("Our runs stay in running.");
        await owner.CheckPageAsync("open-ticket");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Open ticket" }).ClickAsync();
        await Expect(owner.Page.GetByTestId("ticket-row")).ToHaveCountAsync(1);
        await Expect(owner.Page.GetByTestId("ticket-row").GetByTestId("ticket-status")).ToHaveTextAsync("open");
        await TenantScreensTests.CheckBothWidthsAsync(owner, "support");

        await using var op = await BrowserSession.OpenAsync();
        var page = op.Page;
        await SignInOperatorAsync(page);

        // The queue lists the open ticket; the operator answers and resolves it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Support queue" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = $"Runs stuck {suffix}", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Runs stuck {suffix}" })).ToBeVisibleAsync();
        await page.GetByLabel("Reply to the customer").FillAsync("We are looking into it.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send reply" }).ClickAsync();
        await Expect(page.GetByTestId("ticket-response")).ToHaveCountAsync(1);
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-ticket");
        await page.GetByLabel("Resolution").FillAsync("A worker was restarted.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resolve" }).ClickAsync();
        await Expect(page.GetByTestId("ticket-status")).ToHaveTextAsync("resolved");

        // The tenant sees the answer and the status.
        await owner.Page.GetByRole(AriaRole.Link, new() { Name = $"Runs stuck {suffix}", Exact = true }).ClickAsync();
        await Expect(owner.Page.GetByTestId("ticket-response")).ToContainTextAsync("We are looking into it.");
        await Expect(owner.Page.GetByTestId("ticket-status")).ToHaveTextAsync("resolved");
        await TenantScreensTests.CheckBothWidthsAsync(owner, "support-ticket");

        // Suspend, then reverse the founder action from the tenant's list.
        // In-page navigation: the operator's token lives in the page's memory only, so a reload would ask to sign in again.
        await page.GetByRole(AriaRole.Link, new() { Name = "Open the tenant" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = tenantName })).ToBeVisibleAsync();
        await page.GetByLabel("Note", new() { Exact = true }).FillAsync("browser test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Suspend tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("admin-tenant-status")).ToHaveTextAsync("suspended");
        var suspension = page.GetByTestId("action-tenant.suspend");
        await Expect(suspension).ToHaveCountAsync(1);
        await Expect(suspension).ToContainTextAsync("browser test");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-tenant-detail");
        await suspension.GetByRole(AriaRole.Button, new() { Name = "Reverse tenant.suspend" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Reverse" }).ClickAsync();
        await Expect(suspension.GetByTestId("action-state")).ToHaveTextAsync("reversed");
        await Expect(page.GetByTestId("admin-tenant-status")).Not.ToHaveTextAsync("suspended");
        await owner.Page.GotoAsync(tenantUrl);
        await Expect(owner.Page.GetByRole(AriaRole.Heading, new() { Name = tenantName })).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("status-banner")).ToHaveCountAsync(0);

        // Mark-paid of an invoice the tenant does not have: the API's 404 is shown.
        await page.GetByLabel("Invoice id").FillAsync(Guid.NewGuid().ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Mark paid" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();

        // The founder actions list across tenants filters by type.
        await page.GetByRole(AriaRole.Link, new() { Name = "Founder actions" }).ClickAsync();
        await page.GetByLabel("Action type").FillAsync("tenant.suspend");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByTestId("action-tenant.suspend").Filter(new() { HasText = "browser test" })).ToHaveCountAsync(1);
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-actions");

        // Closing a long-ended month twice invoices nobody twice.
        await page.GetByRole(AriaRole.Link, new() { Name = "Billing", Exact = true }).ClickAsync();
        await page.GetByLabel("Month (YYYY-MM)").FillAsync("2020-01");
        await page.GetByRole(AriaRole.Button, new() { Name = "Close period" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("invoices-created")).ToHaveTextAsync("0");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-billing-close");

        // The super_admin sees the operators.
        await page.GetByRole(AriaRole.Link, new() { Name = "Operators", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId($"operator-{BrowserFixture.Operator.Email}")).ToContainTextAsync("you");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-operators");

        op.AssertNoProblems($"404 /v1/admin/tenants/{tenantId}/invoices/");
        owner.AssertNoProblems();
    }
}
