using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.BrowserTests;

/// <summary>Issue 13's webhook and IP allowlist screens: an endpoint created in the page shows its secret once, a test send reaches a real
/// receiver on loopback and shows in the delivery log, a retry sends it again; the allowlist editor saves, refuses a lockout with the
/// API's problem, and clears.</summary>
public sealed class IntegrationScreensTests
{
    [Test]
    public async Task A_webhook_endpoint_is_created_with_its_secret_shown_once_and_a_test_send_is_delivered_logged_and_retried()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        await MembersTests.SignUpWithTenantAsync(page, "Wes Hooks", $"hooks-{suffix}@example.test", "Hooks " + suffix);

        using var receiver = new Receiver();
        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        await Expect(page.GetByText("No webhook endpoints yet.", new() { Exact = false })).ToBeVisibleAsync();
        await TenantScreensTests.CheckBothWidthsAsync(browser, "webhooks-empty");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("URL").FillAsync("not a url");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create endpoint" }).ClickAsync();
        await Expect(dialog.GetByText("Enter a URL", new() { Exact = false })).ToBeVisibleAsync();
        await dialog.GetByLabel("URL").FillAsync(receiver.Url);
        await dialog.GetByLabel("Description").FillAsync("browser receiver");
        await browser.CheckPageAsync("create-webhook-endpoint");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create endpoint" }).ClickAsync();

        var secret = (await dialog.GetByTestId("webhook-secret").TextContentAsync())!.Trim();
        Assert.That(secret, Does.StartWith("whsec_"));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var row = page.GetByTestId("endpoint-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("every event");
        await Expect(row.GetByTestId("endpoint-status")).ToHaveTextAsync("enabled");
        // Shown once: neither the list nor the endpoint's page holds it.
        Assert.That(await page.ContentAsync(), Does.Not.Contain(secret));
        await TenantScreensTests.CheckBothWidthsAsync(browser, "webhooks");

        await row.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByText("No deliveries yet.", new() { Exact = false })).ToBeVisibleAsync();
        Assert.That(await page.ContentAsync(), Does.Not.Contain(secret));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send test event" }).ClickAsync();
        await Expect(page.GetByTestId("webhook-notice")).ToContainTextAsync("was queued");
        var delivery = page.GetByTestId("delivery-row");
        await Expect(delivery).ToHaveCountAsync(1);
        await Expect(delivery).ToContainTextAsync("webhook.test");
        await Expect(delivery.GetByTestId("delivery-status")).ToHaveTextAsync("succeeded");
        Assert.That(receiver.Received, Is.EqualTo(1));
        await TenantScreensTests.CheckBothWidthsAsync(browser, "webhook-endpoint");

        // A retry sends the message once more: the receiver sees a second request.
        await delivery.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.GetByTestId("webhook-notice")).ToHaveTextAsync("1 delivery was queued again.");
        await Expect(delivery.GetByTestId("delivery-status")).ToHaveTextAsync("succeeded");
        for (var i = 0; i < 100 && receiver.Received < 2; i++)
        {
            await Task.Delay(100);
        }
        Assert.That(receiver.Received, Is.EqualTo(2));

        browser.AssertNoProblems();
    }

    [Test]
    public async Task The_ip_allowlist_saves_refuses_a_list_that_locks_the_editor_out_and_clears()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var browser = await BrowserSession.OpenAsync();
        var page = browser.Page;
        var tenantUrl = await MembersTests.SignUpWithTenantAsync(page, "Ian Allow", $"allow-{suffix}@example.test", "Allow " + suffix);
        var tenantId = tenantUrl.Split('/').Last();

        await page.GetByRole(AriaRole.Link, new() { Name = "IP allowlist" }).ClickAsync();
        await Expect(page.GetByText("No entries: every address is allowed.")).ToBeVisibleAsync();
        var editor = page.GetByLabel("Entries", new() { Exact = false });
        await editor.FillAsync("127.0.0.1/32 this machine\n\n203.0.113.0/24 head office");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save allowlist" }).ClickAsync();
        await Expect(page.GetByTestId("allowlist-saved")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("allowlist-count")).ToHaveTextAsync("2 entries in force.");
        await TenantScreensTests.CheckBothWidthsAsync(browser, "ip-allowlist");

        // Leaving out this browser's own address is refused with the API's problem, and asks for an explicit confirmation.
        await editor.FillAsync("203.0.113.0/24 head office");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save allowlist" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Checkbox)).ToBeVisibleAsync();
        await Expect(page.GetByTestId("allowlist-count")).ToHaveTextAsync("2 entries in force.");

        await editor.FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save allowlist" }).ClickAsync();
        await Expect(page.GetByText("No entries: every address is allowed.")).ToBeVisibleAsync();
        await page.ReloadAsync();
        await Expect(page.GetByLabel("Entries", new() { Exact = false })).ToHaveValueAsync("");

        browser.AssertNoProblems($"409 /v1/tenants/{tenantId}/ip-allowlist");
    }

    /// <summary>Is a webhook receiver on a loopback port that answers 204 and counts the requests.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener listener = new();
        private int received;

        public Receiver()
        {
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}/hooks";
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            _ = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await listener.GetContextAsync();
                    }
                    catch (Exception) when (!listener.IsListening)
                    {
                        return;
                    }
                    if (context.Request.Headers["webhook-id"] is { Length: > 0 })
                    {
                        Interlocked.Increment(ref received);
                    }
                    context.Response.StatusCode = 204;
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }
        public int Received => Volatile.Read(ref received);

        public void Dispose() => listener.Close();

        private static int FreePort()
        {
            using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return ((IPEndPoint)l.LocalEndpoint).Port;
        }
    }
}
