using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Engines;
using Platform.Engines.Email;
using Platform.Models;
using Platform.Tests.Invitations;

namespace Platform.Tests.Email;

public sealed partial class EmailOutboxTests : DatabaseTest
{
    /// <summary>Points email at the loopback SMTP server (polling every 100 ms), with the test's own settings over it.</summary>
    private static Dictionary<string, string?> PointAt(SmtpTestServer smtp, params (string Key, string Value)[] more) =>
        smtp.EmailSettings([("Email:PollIntervalMilliseconds", "100"), .. more]);

    [Test]
    public async Task The_dispatch_job_sends_the_invitation_over_smtp_and_the_link_in_it_accepts()
    {
        await using var smtp = new SmtpTestServer();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email, "member");

        // The real job, as AddPlatformJobs registers it, pointed at the loopback SMTP server.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TestEngines.Configuration(DatabaseFixture.AppConnectionString, PointAt(smtp)));
        services.AddEngines();
        services.AddPlatformJobs();
        await using var host = services.BuildServiceProvider();
        var dispatch = host.GetServices<IHostedService>().Single(j => j.GetType().Name == "EmailDispatchJob");
        await dispatch.StartAsync(CancellationToken.None);
        IReadOnlyList<MimeKit.MimeMessage> received;
        try
        {
            received = await smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
            // The job marks the row sent just after the server accepts the message.
            for (var i = 0; i < 100 && await OwnerSql.ScalarAsync<string>("SELECT status FROM outbox_messages", tenantId) != "sent"; i++)
            {
                await Task.Delay(50);
            }
        }
        finally
        {
            await dispatch.StopAsync(CancellationToken.None);
        }

        var mail = received.Single();
        Assert.Multiple(() =>
        {
            Assert.That(mail.To.Mailboxes.Single().Address, Is.EqualTo(invitee.Email));
            Assert.That(mail.From.Mailboxes.Single().Address, Is.EqualTo("no-reply@platform.test"));
            Assert.That(mail.Subject, Does.Contain("invited"));
            Assert.That(mail.HtmlBody, Does.Contain("<a href="));
        });
        var token = Uri.UnescapeDataString(AcceptLink().Match(mail.TextBody ?? "").Groups["token"].Value);
        Assert.That(token, Does.StartWith("inv_"));

        using var accepted = await InvitationApiTests.AcceptAsync(invitee, token);
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM outbox_messages", tenantId), Is.EqualTo("sent"));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE sent_at IS NOT NULL AND attempts = 1", tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task A_failing_smtp_server_leads_to_retries_with_doubling_backoff_and_then_success()
    {
        await using var smtp = new SmtpTestServer(refuseFirst: 2);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var engines = TestEngines.Build(PointAt(smtp, ("Email:RetryBaseSeconds", "30")), clock);
        var owner = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await InvitationApiTests.InviteAsync(owner, tenantId, "retry@example.test");
        clock.UtcNow = DateTimeOffset.UtcNow.AddSeconds(1);
        var mediator = engines.GetRequiredService<IMediator>();

        var first = await mediator.Send(new DispatchEmails());
        Assert.That(first, Is.EqualTo(new DispatchResult(1, 0, 1, 0)));
        var next = await NextAttemptAsync(tenantId);
        Assert.That(next, Is.EqualTo(clock.UtcNow.AddSeconds(30)).Within(TimeSpan.FromMilliseconds(1)));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT last_error FROM outbox_messages", tenantId), Does.Contain("Try again later"));

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.That((await mediator.Send(new DispatchEmails())).Claimed, Is.Zero, "not due before the backoff ends");

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await mediator.Send(new DispatchEmails()), Is.EqualTo(new DispatchResult(1, 0, 1, 0)));
        Assert.That(await NextAttemptAsync(tenantId), Is.EqualTo(clock.UtcNow.AddSeconds(60)).Within(TimeSpan.FromMilliseconds(1)), "the second delay doubles");

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.That(await mediator.Send(new DispatchEmails()), Is.EqualTo(new DispatchResult(1, 1, 0, 0)));
        Assert.Multiple(() =>
        {
            Assert.That(smtp.Transactions, Is.EqualTo(3));
            Assert.That(smtp.Messages, Has.Count.EqualTo(1));
        });
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages", tenantId), Is.EqualTo("sent:3"));
    }

    [Test]
    public async Task A_message_is_marked_failed_after_the_configured_attempts()
    {
        await using var smtp = new SmtpTestServer(refuseFirst: 100);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var engines = TestEngines.Build(PointAt(smtp, ("Email:MaxAttempts", "3"), ("Email:RetryBaseSeconds", "1")), clock);
        var owner = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await InvitationApiTests.InviteAsync(owner, tenantId, "never@example.test");
        clock.UtcNow = DateTimeOffset.UtcNow.AddSeconds(1);
        var mediator = engines.GetRequiredService<IMediator>();

        var results = new List<DispatchResult>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await mediator.Send(new DispatchEmails()));
            clock.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.That(results, Is.EqualTo(new[]
        {
            new DispatchResult(1, 0, 1, 0), new DispatchResult(1, 0, 1, 0), new DispatchResult(1, 0, 0, 1),
            new DispatchResult(0, 0, 0, 0), new DispatchResult(0, 0, 0, 0),
        }));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages", tenantId), Is.EqualTo("failed:3"));
        Assert.That(smtp.Transactions, Is.EqualTo(3));
    }

    [Test]
    public async Task Eight_parallel_dispatchers_send_each_of_60_messages_exactly_once()
    {
        await using var smtp = new SmtpTestServer();
        await using var engines = TestEngines.Build(PointAt(smtp, ("Email:BatchSize", "5")));
        var owner = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "enterprise");
        using var scope = TestApi.Services.CreateScope();
        var api = scope.ServiceProvider.GetRequiredService<IMediator>();
        for (var i = 0; i < 60; i++)
        {
            await api.Send(new EnqueueUsageAlertEmail(Caller.System, tenantId, "runs_per_day", 80, 80, 100, "http://x.test/usage", $"u{i}@example.test"));
        }

        var dispatchers = Enumerable.Range(0, 8).Select(async _ =>
        {
            var sent = 0;
            while (true)
            {
                using var s = engines.CreateScope();
                var result = await s.ServiceProvider.GetRequiredService<IMediator>().Send(new DispatchEmails());
                sent += result.Sent;
                if (result.Claimed == 0)
                {
                    return sent;
                }
            }
        });
        var counts = await Task.WhenAll(dispatchers);

        Assert.Multiple(() =>
        {
            Assert.That(counts.Sum(), Is.EqualTo(60));
            Assert.That(smtp.Messages.Select(m => m.MessageId).Distinct().Count(), Is.EqualTo(60));
            Assert.That(smtp.Messages.Select(m => m.To.Mailboxes.Single().Address).Distinct().Count(), Is.EqualTo(60));
        });
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE status = 'sent' AND attempts = 1", tenantId), Is.EqualTo(60));
    }

    [Test]
    public async Task The_pickup_directory_receives_eml_files_instead_of_smtp()
    {
        var folder = Path.Combine(Path.GetTempPath(), "platform-mail-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var engines = TestEngines.Build(new() { ["Email:PickupDirectory"] = folder });
            var owner = await TestApi.SignUpAsync();
            await QueuedAccountEmails.DropAsync();
            var tenantId = await TestApi.CreateTenantAsync(owner);
            await InvitationApiTests.InviteAsync(owner, tenantId, "picked@example.test");
            Assert.That(await engines.GetRequiredService<IMediator>().Send(new DispatchEmails()), Is.EqualTo(new DispatchResult(1, 1, 0, 0)));
            var file = Directory.GetFiles(folder, "*.eml").Single();
            var message = await MimeKit.MimeMessage.LoadAsync(file);
            Assert.That(message.To.Mailboxes.Single().Address, Is.EqualTo("picked@example.test"));
            Assert.That(AcceptLink().IsMatch(message.TextBody ?? ""), Is.True);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Test]
    public async Task The_billing_and_usage_emails_are_queued_for_the_billing_email_with_their_template()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        using (var patch = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenantId}", new { billing_email = "billing@example.test" }))
        {
            await TestApi.ExpectAsync(patch, HttpStatusCode.OK);
        }
        using var scope = TestApi.Services.CreateScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        await mediator.Send(new EnqueueTrialEndingEmail(Caller.System, tenantId, DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), "http://x.test/billing"));
        await mediator.Send(new EnqueueUsageAlertEmail(Caller.System, tenantId, "tokens_per_month", 90, 90_000, 100_000, "http://x.test/usage"));
        await mediator.Send(new EnqueuePaymentFailedEmail(Caller.System, tenantId, 4_900, "usd", "http://x.test/billing"));
        var bad = Assert.ThrowsAsync<Models.Errors.ValidationFailedException>(() =>
            mediator.Send(new EnqueueUsageAlertEmail(Caller.System, tenantId, "tokens_per_month", 85, 1, 2, "http://x.test/usage")));
        Assert.That(bad!.Errors.Keys, Does.Contain("percent"));

        var kinds = await OwnerSql.ScalarAsync<string>(
            "SELECT string_agg(kind || '>' || (payload->>'to'), ',' ORDER BY kind) FROM outbox_messages", tenantId);
        Assert.That(kinds, Is.EqualTo("email.payment_failed>billing@example.test,email.trial_ending>billing@example.test,email.usage_alert>billing@example.test"));
        var usage = await OwnerSql.ScalarAsync<string>("SELECT payload->>'text' FROM outbox_messages WHERE kind = 'email.usage_alert'", tenantId);
        Assert.That(usage, Does.Contain("90,000 of 100,000 (90%)"));
        var payment = await OwnerSql.ScalarAsync<string>("SELECT (payload->>'subject') || (payload->>'text') FROM outbox_messages WHERE kind = 'email.payment_failed'", tenantId);
        Assert.That(payment, Does.Contain("49.00 USD"));
    }

    [Test]
    public void Templates_render_plain_text_and_html_with_encoded_values()
    {
        var all = new[]
        {
            EmailTemplates.Invitation("a@example.test", "Acme <&>", "admin", "https://app.test/invitations/accept?token=inv_x", DateTimeOffset.UnixEpoch),
            EmailTemplates.TrialEnding("a@example.test", "Acme <&>", DateTimeOffset.UnixEpoch, "https://app.test/billing"),
            EmailTemplates.UsageAlert("a@example.test", "Acme <&>", "runs_per_day", 100, 100, 100, "https://app.test/usage"),
            EmailTemplates.PaymentFailed("a@example.test", "Acme <&>", 12_345, "eur", "https://app.test/billing"),
        };
        foreach (var email in all)
        {
            Assert.Multiple(() =>
            {
                Assert.That(email.Text, Does.Contain("Acme <&>"));
                Assert.That(email.Html, Does.Contain("Acme &lt;&amp;&gt;").And.Not.Contain("Acme <&>"));
                Assert.That(email.Text, Does.Contain("https://app.test/"));
                Assert.That(email.Subject, Is.Not.Empty);
            });
        }
        Assert.That(all[3].Text, Does.Contain("123.45 EUR"));
        Assert.That(all[2].Text, Does.Contain("refused until the quota resets"));
    }

    private static async Task<DateTimeOffset> NextAttemptAsync(Guid tenantId) =>
        new(DateTime.SpecifyKind(await OwnerSql.ScalarAsync<DateTime>("SELECT next_attempt_at FROM outbox_messages", tenantId), DateTimeKind.Utc));

    [GeneratedRegex(@"/invitations/accept\?token=(?<token>[A-Za-z0-9_%\-]+)")]
    private static partial Regex AcceptLink();
}
