using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Slice 2 of the dashboard: members with role badges, role changes, removal with the last-owner refusal, invitations by email
/// (the link read from the .eml pickup folder) accepted in a second browser, resend and revoke.</summary>
public sealed partial class MembersTests
{
    internal const string Password = "correct horse battery";

    [Test]
    public async Task An_owner_invites_a_member_who_accepts_from_the_email_link_then_changes_the_role_and_removes_them()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var ownerEmail = $"owner-{suffix}@example.test";
        var memberEmail = $"member-{suffix}@example.test";
        await using var owner = await BrowserSession.OpenAsync();
        var page = owner.Page;
        var tenantUrl = await SignUpWithTenantAsync(page, "Olive Owner", ownerEmail, "Members " + suffix);

        await page.GetByRole(AriaRole.Link, new() { Name = "Members" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Members", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByTestId($"member-{ownerEmail}").GetByTestId("role-badge")).ToHaveTextAsync("owner");
        await Expect(page.GetByText("No pending invitations.")).ToBeVisibleAsync();

        // The last owner cannot step down: the API's refusal is shown with its detail.
        await page.GetByRole(AriaRole.Combobox, new() { Name = $"Role of {ownerEmail}" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "admin" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("A tenant must keep at least one owner.");
        await Expect(page.GetByTestId($"member-{ownerEmail}").GetByTestId("role-badge")).ToHaveTextAsync("owner");

        // Invite through the modal; an address that is not one is named before anything is sent.
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite member" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Invite a member" });
        await dialog.GetByLabel("Email").FillAsync("not-an-email");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        await Expect(dialog.GetByText("Enter an email address")).ToBeVisibleAsync();
        await dialog.GetByLabel("Email").FillAsync(memberEmail);
        await owner.CheckPageAsync("invite-member");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        var pending = page.GetByTestId($"invitation-{memberEmail}");
        await Expect(pending.GetByTestId("role-badge")).ToHaveTextAsync("member");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Resend to {memberEmail}" }).ClickAsync();
        await Expect(page.GetByText($"Sent the invitation again to {memberEmail}.")).ToBeVisibleAsync();

        // The invitee opens the email's link in their own browser, signs up on the way, and accepts.
        // The resend issued a new token: the second email's link is the one that works.
        var link = await InvitationLinkAsync(memberEmail, emails: 2);
        Assert.That(link, Does.StartWith(BrowserFixture.BaseUrl + "/invitations/accept?token="));
        await using (var invitee = await BrowserSession.OpenAsync())
        {
            await invitee.Page.GotoAsync(link);
            await Expect(invitee.Page).ToHaveURLAsync(new Regex("/signin\\?next="));
            await invitee.Page.GetByRole(AriaRole.Link, new() { Name = "Sign up" }).ClickAsync();
            await invitee.Page.GetByLabel("Name").FillAsync("Max Member");
            await invitee.Page.GetByLabel("Email").FillAsync(memberEmail);
            await invitee.Page.GetByLabel("Password").FillAsync(Password);
            await invitee.Page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
            await Expect(invitee.Page.GetByRole(AriaRole.Heading, new() { Name = "Join a tenant" })).ToBeVisibleAsync();
            await invitee.CheckPageAsync("accept-invitation");
            await invitee.Page.GetByRole(AriaRole.Button, new() { Name = "Accept invitation" }).ClickAsync();
            await Expect(invitee.Page.GetByRole(AriaRole.Heading, new() { Name = "Members " + suffix })).ToBeVisibleAsync();
            await Expect(invitee.Page).ToHaveURLAsync(tenantUrl);
            invitee.AssertNoProblems();
        }

        // The owner sees the new member, promotes them, and removes them after confirming.
        await page.ReloadAsync();
        var row = page.GetByTestId($"member-{memberEmail}");
        await Expect(row.GetByTestId("role-badge")).ToHaveTextAsync("member");
        await Expect(page.GetByText("No pending invitations.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Combobox, new() { Name = $"Role of {memberEmail}" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "admin" }).ClickAsync();
        await Expect(row.GetByTestId("role-badge")).ToHaveTextAsync("admin");
        await owner.CheckPageAsync("members");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {memberEmail}" }).ClickAsync();
        await page.GetByRole(AriaRole.Alertdialog).GetByRole(AriaRole.Button, new() { Name = "Remove member" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);

        // A revoked invitation leaves the pending list.
        var other = $"other-{suffix}@example.test";
        await page.GetByRole(AriaRole.Button, new() { Name = "Invite member" }).ClickAsync();
        await dialog.GetByLabel("Email").FillAsync(other);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        await Expect(page.GetByTestId($"invitation-{other}")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Revoke {other}" }).ClickAsync();
        await Expect(page.GetByText($"Revoked the invitation of {other}.")).ToBeVisibleAsync();
        await Expect(page.GetByTestId($"invitation-{other}")).ToHaveCountAsync(0);

        owner.AssertNoProblems($"409 /v1/tenants/{tenantUrl.Split('/').Last()}/members/");
    }

    /// <summary>Signs up through the pages and creates a tenant; returns the tenant's URL.</summary>
    internal static async Task<string> SignUpWithTenantAsync(IPage page, string name, string email, string tenant)
    {
        await page.GotoAsync("/signup");
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create a tenant" })).ToBeVisibleAsync();
        await page.GetByLabel("Name").FillAsync(tenant);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = tenant })).ToBeVisibleAsync();
        return page.Url;
    }

    /// <summary>Reads the accept link of the newest invitation email to the address from the .eml pickup folder.</summary>
    private static async Task<string> InvitationLinkAsync(string to, int emails)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            // The Date header has whole seconds, and an invitation and its resend often share one: the file's write time orders them within it.
            var links = new List<(DateTimeOffset Date, DateTime Written, string Link)>();
            foreach (var file in new DirectoryInfo(BrowserFixture.MailFolder).GetFiles("*.eml"))
            {
                using var message = await MimeMessage.LoadAsync(file.FullName);
                var match = AcceptLink().Match(message.TextBody ?? message.HtmlBody ?? "");
                if (message.To.Mailboxes.Any(m => m.Address.Equals(to, StringComparison.OrdinalIgnoreCase)) && match.Success)
                {
                    links.Add((message.Date, file.LastWriteTimeUtc, System.Net.WebUtility.HtmlDecode(match.Value)));
                }
            }
            if (links.Count >= emails)
            {
                return links.OrderBy(l => l.Date).ThenBy(l => l.Written).Last().Link;
            }
            await Task.Delay(100);
        }
        throw new AssertionException($"No invitation email to {to} in {BrowserFixture.MailFolder}.");
    }

    [GeneratedRegex(@"https?://[^\s""<>]+/invitations/accept\?token=[^\s""<>]+")]
    private static partial Regex AcceptLink();
}
