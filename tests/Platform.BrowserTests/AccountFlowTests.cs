using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Slice 1 of the dashboard: sign up, create a tenant, sign out and in again, in Chromium.</summary>
public sealed partial class AccountFlowTests
{
    [Test]
    public async Task A_visitor_signs_up_creates_a_tenant_signs_out_and_signs_in_again()
    {
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var email = $"owner-{Guid.NewGuid():N}@example.test";
        const string password = "correct horse battery";

        // A signed-out visitor is sent to sign in, remembering nothing in the page's storage.
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Platform" })).ToBeVisibleAsync();
        await browser.CheckPageAsync("sign-in");

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign up" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();
        // The form checks before it sends: a short password is named under its field.
        await page.GetByLabel("Name").FillAsync("Ada Owner");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await Expect(page.GetByText("At least 8 characters")).ToBeVisibleAsync();
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();

        // No tenant yet: the create-tenant page, with the slug following the name.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create a tenant" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync(email);
        await browser.CheckPageAsync("create-tenant");
        var slug = "acme-" + Guid.NewGuid().ToString("N")[..8];
        await page.GetByLabel("Name").FillAsync("Acme Robots");
        await Expect(page.GetByLabel("Slug")).ToHaveValueAsync("acme-robots");
        await page.GetByLabel("Slug").FillAsync(slug);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Acme Robots" })).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(TenantUrl());
        await Expect(page.GetByTestId("trial-banner")).ToContainTextAsync("days left");
        await browser.CheckPageAsync("overview");

        // The refresh token is an HttpOnly cookie on the auth path; nothing is in the page's storage.
        var cookies = await browser.Context.CookiesAsync();
        var refresh = cookies.Single(c => c.Name == "platform_refresh");
        Assert.Multiple(async () =>
        {
            Assert.That(refresh.HttpOnly, Is.True);
            Assert.That(refresh.SameSite, Is.EqualTo(SameSiteAttribute.Strict));
            Assert.That(refresh.Path, Is.EqualTo("/v1/auth"));
            Assert.That(await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"), Is.Zero);
            Assert.That(await page.EvaluateAsync<string>("() => document.cookie"), Does.Not.Contain("platform_refresh"));
        });

        // A reload keeps the session through the cookie alone.
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Acme Robots" })).ToBeVisibleAsync();

        // A second tenant, then the switcher goes back to the first.
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "+ Create tenant" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Second Shop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Second Shop" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Acme Robots" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Acme Robots" })).ToBeVisibleAsync();

        // A slug already taken shows the API's problem title and detail.
        await page.GetByRole(AriaRole.Combobox, new() { Name = "Tenant" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "+ Create tenant" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Copycat");
        await page.GetByLabel("Slug").FillAsync(slug);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"The slug '{slug}' is taken.");

        // Sign out ends the session: the cookie is gone and the dashboard asks to sign in.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(SignInUrl());
        Assert.That((await browser.Context.CookiesAsync()).Where(c => c.Name == "platform_refresh"), Is.Empty);
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(SignInUrl());

        // A wrong password shows the API's problem; the right one opens the default tenant again.
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("wrong password!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("The email or password is not correct");
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(TenantUrl());
        await Expect(page.GetByRole(AriaRole.Combobox, new() { Name = "Tenant" })).ToBeVisibleAsync();

        browser.AssertNoProblems("409 /v1/tenants", "401 /v1/auth/login");
    }

    [Test]
    public async Task The_sign_in_page_is_usable_at_a_phone_width()
    {
        await using var browser = await BrowserSession.OpenAsync(390, 844);
        await browser.Page.GotoAsync("/signin");
        await Expect(browser.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeInViewportAsync();
        var overflow = await browser.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth");
        Assert.That(overflow, Is.False, "the page scrolls sideways at 390 px");
        await browser.CheckPageAsync("sign-in-390");
        browser.AssertNoProblems();
    }

    [GeneratedRegex(@"/signin(\?.*)?$")]
    private static partial Regex SignInUrl();

    [GeneratedRegex(@"/t/[0-9a-f-]{36}$")]
    private static partial Regex TenantUrl();
}
