using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Tests.Operators;

namespace Platform.Tests.Ops;

public sealed class Issue5GapTests : DatabaseTest
{
    [Test]
    public async Task Ticket_status_transitions_are_each_audited_with_old_and_new_and_a_closed_ticket_is_final()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        string ticket;
        using (var opened = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/support-tickets",
            new { subject = "Runs fail", description = "Every run fails since noon.", category = "technical", priority = "high" }))
        {
            await TestApi.ExpectAsync(opened, HttpStatusCode.Created);
            ticket = (string)(await TestApi.ReadAsync(opened))["id"]!;
        }
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        foreach (var status in new[] { "in_progress", "waiting_on_customer", "in_progress" })
        {
            using var changed = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status });
            await TestApi.ExpectAsync(changed, HttpStatusCode.OK);
        }
        using (var same = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "in_progress" }))
        {
            await TestApi.ExpectProblemAsync(same, HttpStatusCode.Conflict, "status_unchanged");
        }
        using (var resolve = await support.PostAsJsonAsync($"/v1/admin/support-tickets/{ticket}/resolve", new { resolution = "Fixed upstream." }))
        {
            await TestApi.ExpectAsync(resolve, HttpStatusCode.OK);
        }
        using (var close = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "closed" }))
        {
            await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        }
        using (var reopen = await support.PatchAsJsonAsync($"/v1/admin/support-tickets/{ticket}", new { status = "open" }))
        {
            await TestApi.ExpectProblemAsync(reopen, HttpStatusCode.Conflict, "ticket_closed");
        }

        using var log = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log?action=support_ticket.");
        var rows = (await TestApi.ReadAsync(log))["data"]!.AsArray().Reverse().ToList();
        var transitions = rows.Where(r => ((string?)r!["action"])!.StartsWith("support_ticket.status_changed", StringComparison.Ordinal)
                                          || (string?)r!["action"] == "support_ticket.resolved")
            .Select(r => $"{(string?)r!["old_values"]!["status"]}->{(string?)r!["new_values"]!["status"]}:{(string?)r!["actor_type"]}")
            .ToList();
        Assert.That(transitions, Is.EqualTo(new[]
        {
            "open->in_progress:operator", "in_progress->waiting_on_customer:operator", "waiting_on_customer->in_progress:operator",
            "in_progress->resolved:operator", "resolved->closed:operator",
        }), "one audit row per transition, none for the refused ones");
    }

    [Test]
    public async Task Audit_rows_carry_the_client_ip_user_agent_and_request_id()
    {
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
            b.ConfigureTestServices(s => s.AddSingleton<IStartupFilter>(new FixedClientIp())));
        var client = host.CreateClient();
        client.DefaultRequestHeaders.UserAgent.ParseAdd("ops-audit-test/1.0");
        var owner = await TestApi.SignUpAsync();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        using var created = await client.PostAsJsonAsync("/v1/tenants", new { name = "Audited", slug = "aud-" + Guid.NewGuid().ToString("N")[..10] });
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var tenantId = (string)(await TestApi.ReadAsync(created))["id"]!;
        using var invited = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "someone@example.test", role = "member" });
        await TestApi.ExpectAsync(invited, HttpStatusCode.Created);

        using var log = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?action=invitation.created");
        var row = (await TestApi.ReadAsync(log))["data"]![0]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)row["ip"], Is.EqualTo("203.0.113.44"));
            Assert.That((string?)row["user_agent"], Is.EqualTo("ops-audit-test/1.0"));
            Assert.That((string?)row["request_id"], Is.Not.Empty);
            Assert.That((string?)row["actor_type"], Is.EqualTo("user"));
            Assert.That((string?)row["actor_id"], Is.EqualTo(owner.Id.ToString()));
            Assert.That((string?)row["occurred_at"] ?? (string?)row["created_at"], Is.Not.Empty);
        });
    }

    [Test]
    public async Task Resending_a_pending_invitation_rotates_the_token_and_queues_a_new_email()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var first = await Platform.Tests.Invitations.InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email);
        var id = (string)first["invitation"]!["id"]!;

        using var resend = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/invitations/{id}/resend", null);
        await TestApi.ExpectAsync(resend, HttpStatusCode.OK);
        var second = (string)(await TestApi.ReadAsync(resend))["token"]!;

        Assert.That(second, Is.Not.EqualTo((string)first["token"]!));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'email.invitation'", tenantId), Is.EqualTo(2));
        Assert.That(await OutboxSecretTests.RowsHoldingAsync(second, tenantId), Is.Empty);
        using (var old = await Platform.Tests.Invitations.InvitationApiTests.AcceptAsync(invitee, (string)first["token"]!))
        {
            await TestApi.ExpectProblemAsync(old, HttpStatusCode.NotFound, "not_found");
        }
        using (var accepted = await Platform.Tests.Invitations.InvitationApiTests.AcceptAsync(invitee, second))
        {
            await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        }
        using var again = await Platform.Tests.Invitations.InvitationApiTests.AcceptAsync(invitee, second);
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Gone, "invitation_expired");
    }

    /// <summary>Gives every request one client IP (the in-process test server has none).</summary>
    private sealed class FixedClientIp : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.44");
                return nextMiddleware();
            });
            next(app);
        };
    }
}
