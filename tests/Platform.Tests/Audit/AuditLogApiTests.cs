using System.Net;
using System.Text.Json.Nodes;
using Platform.Tests.Invitations;

namespace Platform.Tests.Audit;

public sealed class AuditLogApiTests : DatabaseTest
{
    [Test]
    public async Task Invitation_create_resend_revoke_and_accept_write_audit_rows_listed_newest_first()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var first = await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email);
        var firstId = (string)first["invitation"]!["id"]!;
        using (var resend = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/invitations/{firstId}/resend", null))
        {
            var token = (string)(await TestApi.ReadAsync(resend))["token"]!;
            using var accept = await InvitationApiTests.AcceptAsync(invitee, token);
            await TestApi.ExpectAsync(accept, HttpStatusCode.OK);
        }
        var second = await InvitationApiTests.InviteAsync(owner, tenantId, "other@example.test");
        using (var revoke = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/invitations/{(string)second["invitation"]!["id"]!}"))
        {
            await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        }

        var rows = await ListAsync(owner, tenantId, "?action=invitation.");
        Assert.That(rows.Select(r => (string)r["action"]!), Is.EqualTo(new[]
        {
            "invitation.revoked", "invitation.created", "invitation.accepted", "invitation.resent", "invitation.created",
        }));
        var accepted = rows[2];
        Assert.Multiple(() =>
        {
            Assert.That((string?)accepted["actor_type"], Is.EqualTo("user"));
            Assert.That((string?)accepted["actor_id"], Is.EqualTo(invitee.Id.ToString()));
            Assert.That((string?)accepted["resource_id"], Is.EqualTo(firstId));
            Assert.That((string?)accepted["new_values"]!["role"], Is.EqualTo("member"));
            Assert.That((string?)rows[4]["new_values"]!["email"], Is.EqualTo(invitee.Email));
            Assert.That((string?)rows[4]["request_id"], Is.Not.Empty);
        });
        foreach (var row in rows)
        {
            Assert.That(row.ToJsonString(), Does.Not.Contain("inv_"), "no token in the audit log");
        }
    }

    [Test]
    public async Task Filters_by_exact_action_actor_and_time_and_pages_with_a_cursor()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        for (var i = 0; i < 5; i++)
        {
            await InvitationApiTests.InviteAsync(i % 2 == 0 ? owner : admin, tenantId, $"f{i}@example.test");
        }

        var byAdmin = await ListAsync(owner, tenantId, $"?actor={admin.Id}");
        Assert.That(byAdmin.Select(r => (string)r["actor_id"]!), Is.EqualTo(new[] { admin.Id.ToString(), admin.Id.ToString() }));
        var created = await ListAsync(owner, tenantId, "?action=invitation.created");
        Assert.That(created, Has.Count.EqualTo(5));
        Assert.That(await ListAsync(owner, tenantId, "?action=tenant.created"), Has.Count.EqualTo(1));
        Assert.That(await ListAsync(owner, tenantId, "?actor=system"), Is.Empty);
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"));
        Assert.That(await ListAsync(owner, tenantId, $"?from={future}"), Is.Empty);
        Assert.That(await ListAsync(owner, tenantId, $"?to={future}"), Has.Count.EqualTo(6));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var page = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log?limit=2" + (cursor is null ? "" : "&cursor=" + cursor));
            await TestApi.ExpectAsync(page, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(page);
            seen.AddRange(body["data"]!.AsArray().Select(r => (string)r!["id"]!));
            cursor = (string?)body["next_cursor"];
            pages++;
        }
        while (cursor is not null);
        Assert.That(pages, Is.EqualTo(3));
        Assert.That(seen, Is.Unique.And.Count.EqualTo(6));
    }

    [Test]
    public async Task Members_below_admin_get_403_and_bad_filters_get_422()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenantId, "member");
        using var forbidden = await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log");
        await TestApi.ExpectProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");

        var client = TestApi.Client(owner.Token);
        using var badActor = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?actor=robot");
        await TestApi.ExpectProblemAsync(badActor, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var badCursor = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?cursor=zzz");
        await TestApi.ExpectProblemAsync(badCursor, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var badLimit = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?limit=500");
        await TestApi.ExpectProblemAsync(badLimit, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var badRange = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
        await TestApi.ExpectProblemAsync(badRange, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var badTime = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?from=yesterday");
        Assert.That((int)badTime.StatusCode, Is.EqualTo(400));
    }

    private static async Task<List<JsonNode>> ListAsync(TestUser user, Guid tenantId, string query)
    {
        using var response = await TestApi.Client(user.Token).GetAsync($"/v1/tenants/{tenantId}/audit-log{query}");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (await TestApi.ReadAsync(response))["data"]!.AsArray().Select(n => n!).ToList();
    }
}
