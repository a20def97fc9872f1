using System.Net;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Engines.Email;
using Platform.Tests.Invitations;

namespace Platform.Tests.Email;

public sealed partial class OutboxSecretTests : DatabaseTest
{
    /// <summary>Points email at the loopback SMTP server, with the test's own settings over it.</summary>
    private static Dictionary<string, string?> PointAt(SmtpTestServer smtp, params (string Key, string Value)[] more) =>
        smtp.EmailSettings(more);

    [Test]
    public async Task The_raw_invitation_token_is_never_stored_yet_the_sent_email_carries_a_working_link()
    {
        await using var smtp = new SmtpTestServer();
        await using var engines = TestEngines.Build(PointAt(smtp));
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        var token = (string)(await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email, "member"))["token"]!;
        Assert.That(token, Does.StartWith("inv_"));

        Assert.That(await RowsHoldingAsync(token, tenantId), Is.Empty, "queued: no table holds the raw token");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE payload ? 'secrets'", tenantId), Is.EqualTo(1));

        var result = await engines.GetRequiredService<IMediator>().Send(new DispatchEmails());
        Assert.That(result, Is.EqualTo(new DispatchResult(1, 1, 0, 0)));

        var mail = smtp.Messages.Single();
        var linked = Uri.UnescapeDataString(AcceptLink().Match(mail.TextBody ?? "").Groups["token"].Value);
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EqualTo(token), "the text body carries the real link");
            Assert.That(mail.HtmlBody, Does.Contain("token=" + token), "the HTML body too");
            Assert.That(mail.TextBody, Does.Not.Contain("__secret_"));
        });
        Assert.That(await RowsHoldingAsync(token, tenantId), Is.Empty, "sent: still no table holds the raw token");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE status = 'sent' AND NOT payload ? 'secrets'", tenantId), Is.EqualTo(1),
            "the encrypted secret is scrubbed once sent");

        using var accepted = await InvitationApiTests.AcceptAsync(invitee, linked);
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        Assert.That(await RowsHoldingAsync(token, tenantId), Is.Empty, "accepted: no audit row holds it either");
    }

    [Test]
    public async Task A_message_whose_invitation_expired_is_not_sent_and_loses_its_secret()
    {
        await using var smtp = new SmtpTestServer();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var engines = TestEngines.Build(PointAt(smtp), clock);
        var owner = await TestApi.SignUpAsync();
        await QueuedAccountEmails.DropAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await InvitationApiTests.InviteAsync(owner, tenantId, "late@example.test");

        clock.Advance(TimeSpan.FromDays(8));
        var result = await engines.GetRequiredService<IMediator>().Send(new DispatchEmails());

        Assert.Multiple(async () =>
        {
            Assert.That(result, Is.EqualTo(new DispatchResult(1, 0, 0, 1)));
            Assert.That(smtp.Transactions, Is.Zero);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || attempts FROM outbox_messages", tenantId), Is.EqualTo("failed:1"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE payload ? 'secrets'", tenantId), Is.Zero);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT last_error FROM outbox_messages", tenantId), Does.Contain("expired"));
        });
    }

    [Test]
    public async Task A_message_failing_for_good_loses_its_secret()
    {
        await using var smtp = new SmtpTestServer(refuseFirst: 100);
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await InvitationApiTests.InviteAsync(owner, tenantId, "never@example.test");
        // The clock starts after the message was queued (real time), so that "one second later" is after it however slow the machine.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var engines = TestEngines.Build(PointAt(smtp, ("Email:MaxAttempts", "2"), ("Email:RetryBaseSeconds", "1")), clock);
        var mediator = engines.GetRequiredService<IMediator>();

        clock.Advance(TimeSpan.FromSeconds(1));
        await mediator.Send(new DispatchEmails());
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE payload ? 'secrets'", tenantId), Is.EqualTo(1), "kept for the retry");
        clock.Advance(TimeSpan.FromMinutes(1));
        await mediator.Send(new DispatchEmails());

        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || (payload ? 'secrets')::text FROM outbox_messages", tenantId), Is.EqualTo("failed:false"));
    }

    /// <summary>Names every table (of all of public's) with a row whose text contains the value, looking inside the tenant's scope.</summary>
    internal static async Task<IReadOnlyList<string>> RowsHoldingAsync(string value, Guid tenantId)
    {
        var found = new List<string>();
        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        Assert.That(tables, Does.Contain("outbox_messages").And.Contain("audit_log"));
        foreach (var table in tables)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, transaction))
            {
                scope.Parameters.AddWithValue("t", tenantId.ToString());
                await scope.ExecuteNonQueryAsync();
            }
            // The table name comes from the catalogue, quoted as an identifier.
            await using var count = new NpgsqlCommand(
                "SELECT count(*) FROM \"" + table.Replace("\"", "\"\"", StringComparison.Ordinal) + "\" t WHERE strpos(t::text, @v) > 0", connection, transaction);
            count.Parameters.AddWithValue("v", value);
            if ((long)(await count.ExecuteScalarAsync())! > 0)
            {
                found.Add(table);
            }
            await transaction.CommitAsync();
        }
        return found;
    }

    [GeneratedRegex(@"/invitations/accept\?token=(?<token>[A-Za-z0-9_%\-]+)")]
    private static partial Regex AcceptLink();
}
