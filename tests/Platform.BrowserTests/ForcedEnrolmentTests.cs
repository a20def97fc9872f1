using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OtpNet;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's forced TOTP enrolment (ADR 0745): a super_admin resets another operator's TOTP in the console (with its reason); that
/// operator's next sign-in with the password alone opens only the enrolment page (no console, no other route); they enrol from the QR page
/// (the test reads the secret off the page and computes the code), sign in again with a code and land in the console.</summary>
public sealed class ForcedEnrolmentTests
{
    [Test]
    public async Task An_operator_whose_totp_was_reset_must_enrol_at_sign_in_and_then_lands_in_the_console()
    {
        var email = $"forced-{Guid.NewGuid():N}@browser.test";
        const string password = "operator password 3";
        var oldSecret = Base32Encoding.ToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        await using (var scope = BrowserFixture.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(
                new Platform.Engines.Operators.CreateOperator(email, "Forced Operator", "support", password, EnableTotp: true, TotpSecret: oldSecret));
        }

        // The super_admin resets the operator's TOTP from the operators screen; the row then says they must enrol.
        await using (var admin = await BrowserSession.OpenAsync())
        {
            await AdminScreensTests.SignInOperatorAsync(admin.Page);
            await admin.Page.GetByRole(AriaRole.Link, new() { Name = "Operators", Exact = true }).ClickAsync();
            var row = admin.Page.GetByTestId($"operator-{email}");
            await Expect(row.GetByText("TOTP to enrol")).ToHaveCountAsync(0);
            await row.GetByRole(AriaRole.Button, new() { Name = $"Reset TOTP of {email}" }).ClickAsync();
            await Expect(row.GetByText("TOTP to enrol")).ToBeVisibleAsync();
            admin.AssertNoProblems();
        }

        await using var op = await BrowserSession.OpenAsync();
        var page = op.Page;
        // The reset dropped the old secret: a code from the old authenticator counts for nothing, and the sign-in opens only enrolment.
        await page.GotoAsync("/admin/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByLabel("Authenticator code").FillAsync(new Totp(Base32Encoding.ToBytes(oldSecret)).ComputeTotp());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Set up your authenticator" })).ToBeVisibleAsync();
        // The console's sections are not there: the token in hand opens only the enrolment routes.
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console sections" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "needs TOTP before anything else" })).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/enrol$"));
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-forced-enrolment");

        await page.GetByRole(AriaRole.Button, new() { Name = "Start enrolment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of your TOTP secret" })).ToBeVisibleAsync();
        var secret = (await page.GetByTestId("totp-secret").InnerTextAsync()).Trim();
        Assert.That(secret, Is.Not.EqualTo(oldSecret), "enrolment makes a new secret");
        Assert.That(Base32Encoding.ToBytes(secret), Has.Length.GreaterThanOrEqualTo(16), "the page shows the base32 secret");
        await TenantScreensTests.CheckBothWidthsAsync(op, "admin-forced-enrolment-qr");
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp();
        await page.GetByLabel("Code from your authenticator").FillAsync(code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByTestId("enrolled-notice")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/signin$"));

        // With a code of the new secret (of the next step: a code is accepted once) the operator lands in the console, enrolled.
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByLabel("Authenticator code").FillAsync(await AdminTenantDataTests.NextCodeAsync(secret, code));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console sections" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Set up TOTP" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Set up your authenticator" })).ToHaveCountAsync(0);
        op.AssertNoProblems();
    }
}
