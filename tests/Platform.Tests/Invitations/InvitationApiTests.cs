using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Tests.Invitations;

public sealed class InvitationApiTests : DatabaseTest
{
    internal static async Task<JsonNode> InviteAsync(TestUser by, Guid tenantId, string email, string role = "member")
    {
        using var response = await TestApi.Client(by.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email, role });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }

    internal static Task<HttpResponseMessage> AcceptAsync(TestUser user, string token) =>
        TestApi.Client(user.Token).PostAsJsonAsync("/v1/invitations/accept", new { token });

    [Test]
    public async Task Invite_shows_the_token_and_link_once_and_stores_only_its_sha256_hash()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var issued = await InviteAsync(owner, tenantId, "New.Person@Example.test", "admin");

        var token = (string)issued["token"]!;
        var id = Guid.Parse((string)issued["invitation"]!["id"]!);
        Assert.Multiple(() =>
        {
            Assert.That(token, Does.StartWith("inv_"));
            Assert.That(token.Length, Is.GreaterThanOrEqualTo(4 + 43), "at least 256 bits of base64url");
            Assert.That((string?)issued["accept_url"], Does.EndWith("/invitations/accept?token=" + Uri.EscapeDataString(token)));
            Assert.That((string?)issued["invitation"]!["status"], Is.EqualTo("pending"));
            Assert.That((string?)issued["invitation"]!["role"], Is.EqualTo("admin"));
            Assert.That(DateTimeOffset.Parse((string)issued["invitation"]!["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow.AddDays(7)).Within(TimeSpan.FromMinutes(1)));
        });

        var stored = await OwnerSql.ScalarAsync<byte[]>("SELECT token_hash FROM invitations WHERE id = @id", tenantId, ("id", id));
        Assert.That(stored, Is.EqualTo(SHA256.HashData(Encoding.UTF8.GetBytes(token))));
        var rowText = await OwnerSql.ScalarAsync<string>("SELECT to_jsonb(i)::text FROM invitations i WHERE id = @id", tenantId, ("id", id));
        Assert.That(rowText, Does.Not.Contain(token[4..]));

        using var list = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/invitations");
        await TestApi.ExpectAsync(list, HttpStatusCode.OK);
        var listed = (await TestApi.ReadAsync(list))["data"]!.AsArray();
        Assert.That(listed, Has.Count.EqualTo(1));
        Assert.That(listed[0]!.AsObject().ContainsKey("token"), Is.False);
        Assert.That((string?)listed[0]!["email"], Is.EqualTo("New.Person@Example.test"));
    }

    [Test]
    public async Task Accepting_with_the_same_email_in_other_case_makes_a_member_with_the_invited_role()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var issued = await InviteAsync(owner, tenantId, invitee.Email.ToUpperInvariant(), "admin");

        using var accepted = await AcceptAsync(invitee, (string)issued["token"]!);
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(accepted);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["tenant_id"], Is.EqualTo(tenantId.ToString()));
            Assert.That((string?)body["role"], Is.EqualTo("admin"));
        });

        using var members = await TestApi.Client(invitee.Token).GetAsync($"/v1/tenants/{tenantId}/members");
        await TestApi.ExpectAsync(members, HttpStatusCode.OK);
        var roles = (await TestApi.ReadAsync(members))["data"]!.AsArray().ToDictionary(m => (string)m!["user_id"]!, m => (string)m!["role"]!);
        Assert.That(roles[invitee.Id.ToString()], Is.EqualTo("admin"));

        using var list = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/invitations?status=accepted");
        var invitation = (await TestApi.ReadAsync(list))["data"]!.AsArray().Single()!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)invitation["status"], Is.EqualTo("accepted"));
            Assert.That((string?)invitation["accepted_by"], Is.EqualTo(invitee.Id.ToString()));
        });
    }

    [Test]
    public async Task A_used_token_gets_410_invitation_expired()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var token = (string)(await InviteAsync(owner, tenantId, invitee.Email))["token"]!;
        using var first = await AcceptAsync(invitee, token);
        await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        using var second = await AcceptAsync(invitee, token);
        await TestApi.ExpectProblemAsync(second, HttpStatusCode.Gone, "invitation_expired");
    }

    [Test]
    public async Task A_revoked_token_gets_410_and_revoking_twice_gets_409()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var issued = await InviteAsync(owner, tenantId, invitee.Email);
        var id = (string)issued["invitation"]!["id"]!;

        using var revoke = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/invitations/{id}");
        await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(revoke))["status"], Is.EqualTo("revoked"));

        using var accept = await AcceptAsync(invitee, (string)issued["token"]!);
        await TestApi.ExpectProblemAsync(accept, HttpStatusCode.Gone, "invitation_expired");
        using var again = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/invitations/{id}");
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "invitation_not_pending");
    }

    [Test]
    public async Task An_expired_token_gets_410_and_resend_issues_a_new_working_token()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var issued = await InviteAsync(owner, tenantId, invitee.Email, "viewer");
        var id = Guid.Parse((string)issued["invitation"]!["id"]!);
        await OwnerSql.ScalarAsync<object>("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = @id", tenantId, ("id", id));

        using var expired = await AcceptAsync(invitee, (string)issued["token"]!);
        await TestApi.ExpectProblemAsync(expired, HttpStatusCode.Gone, "invitation_expired");
        using var listExpired = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/invitations?status=expired");
        Assert.That((await TestApi.ReadAsync(listExpired))["data"]!.AsArray(), Has.Count.EqualTo(1));

        using var resend = await TestApi.Client(owner.Token).PostAsync($"/v1/tenants/{tenantId}/invitations/{id}/resend", null);
        await TestApi.ExpectAsync(resend, HttpStatusCode.OK);
        var reissued = await TestApi.ReadAsync(resend);
        var newToken = (string)reissued["token"]!;
        Assert.Multiple(() =>
        {
            Assert.That(newToken, Is.Not.EqualTo((string)issued["token"]!));
            Assert.That((string?)reissued["invitation"]!["status"], Is.EqualTo("pending"));
            Assert.That((int?)reissued["invitation"]!["sent_count"], Is.EqualTo(2));
        });

        using var old = await AcceptAsync(invitee, (string)issued["token"]!);
        await TestApi.ExpectProblemAsync(old, HttpStatusCode.NotFound, "not_found");
        using var accepted = await AcceptAsync(invitee, newToken);
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(accepted))["role"], Is.EqualTo("viewer"));
    }

    [Test]
    public async Task Accepting_as_a_user_with_another_email_gets_403_and_an_unknown_token_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var stranger = await TestApi.SignUpAsync();
        var token = (string)(await InviteAsync(owner, tenantId, invitee.Email))["token"]!;

        using var wrong = await AcceptAsync(stranger, token);
        await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.Forbidden, "invitation_email_mismatch");
        using var unknown = await AcceptAsync(invitee, "inv_" + new string('A', 43));
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        using var empty = await TestApi.Client(invitee.Token).PostAsJsonAsync("/v1/invitations/accept", new { });
        await TestApi.ExpectProblemAsync(empty, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var anonymous = await TestApi.Client().PostAsJsonAsync("/v1/invitations/accept", new { token });
        await TestApi.ExpectProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        using var members = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenantId}/members");
        await TestApi.ExpectProblemAsync(members, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Only_an_owner_may_invite_an_owner_and_members_may_not_invite()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var member = await TestApi.MemberAsync(tenantId, "member");

        using var byAdmin = await TestApi.Client(admin.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "boss@example.test", role = "owner" });
        await TestApi.ExpectProblemAsync(byAdmin, HttpStatusCode.Forbidden, "forbidden");
        using var byMember = await TestApi.Client(member.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "x@example.test", role = "viewer" });
        await TestApi.ExpectProblemAsync(byMember, HttpStatusCode.Forbidden, "forbidden");
        using var listByMember = await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenantId}/invitations");
        await TestApi.ExpectProblemAsync(listByMember, HttpStatusCode.Forbidden, "forbidden");

        var asOwner = await InviteAsync(owner, tenantId, "boss@example.test", "owner");
        Assert.That((string?)asOwner["invitation"]!["role"], Is.EqualTo("owner"));
        await InviteAsync(admin, tenantId, "helper@example.test", "admin");
    }

    [Test]
    public async Task Bad_input_gets_422_and_duplicates_get_409()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);

        using var badEmail = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "not-an-email", role = "member" });
        Assert.That((await TestApi.ExpectProblemAsync(badEmail, HttpStatusCode.UnprocessableEntity, "validation_failed"))["errors"]!["email"], Is.Not.Null);
        using var badRole = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "a@example.test", role = "king" });
        Assert.That((await TestApi.ExpectProblemAsync(badRole, HttpStatusCode.UnprocessableEntity, "validation_failed"))["errors"]!["role"], Is.Not.Null);
        using var badJson = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenantId}/invitations", "{\"email\": 5"));
        await TestApi.ExpectProblemAsync(badJson, HttpStatusCode.BadRequest, "validation_failed");
        using var badStatus = await client.GetAsync($"/v1/tenants/{tenantId}/invitations?status=lost");
        await TestApi.ExpectProblemAsync(badStatus, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var badId = await client.DeleteAsync($"/v1/tenants/{tenantId}/invitations/not-a-uuid");
        await TestApi.ExpectProblemAsync(badId, HttpStatusCode.NotFound, "not_found");

        await InviteAsync(owner, tenantId, "twice@example.test");
        using var twice = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "TWICE@example.test", role = "member" });
        await TestApi.ExpectProblemAsync(twice, HttpStatusCode.Conflict, "invitation_exists");
        using var self = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = owner.Email, role = "member" });
        await TestApi.ExpectProblemAsync(self, HttpStatusCode.Conflict, "already_member");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invitations", tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task Member_of_tenant_A_never_sees_tenant_B_invitations_or_audit_log()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        var invitationB = await InviteAsync(ownerB, tenantB, "someone@example.test");
        var idB = (string)invitationB["invitation"]!["id"]!;
        var client = TestApi.Client(ownerA.Token);

        using var list = await client.GetAsync($"/v1/tenants/{tenantB}/invitations");
        await TestApi.ExpectProblemAsync(list, HttpStatusCode.NotFound, "not_found");
        using var audit = await client.GetAsync($"/v1/tenants/{tenantB}/audit-log");
        await TestApi.ExpectProblemAsync(audit, HttpStatusCode.NotFound, "not_found");
        using var revoke = await client.DeleteAsync($"/v1/tenants/{tenantB}/invitations/{idB}");
        await TestApi.ExpectProblemAsync(revoke, HttpStatusCode.NotFound, "not_found");
        using var revokeViaA = await client.DeleteAsync($"/v1/tenants/{tenantA}/invitations/{idB}");
        await TestApi.ExpectProblemAsync(revokeViaA, HttpStatusCode.NotFound, "not_found");
        using var resendViaA = await client.PostAsync($"/v1/tenants/{tenantA}/invitations/{idB}/resend", null);
        await TestApi.ExpectProblemAsync(resendViaA, HttpStatusCode.NotFound, "not_found");
        using var invite = await client.PostAsJsonAsync($"/v1/tenants/{tenantB}/invitations", new { email = "x@example.test", role = "member" });
        await TestApi.ExpectProblemAsync(invite, HttpStatusCode.NotFound, "not_found");

        using var ownAudit = await client.GetAsync($"/v1/tenants/{tenantA}/audit-log?limit=200");
        await TestApi.ExpectAsync(ownAudit, HttpStatusCode.OK);
        var rows = (await TestApi.ReadAsync(ownAudit))["data"]!.AsArray();
        Assert.That(rows.Select(r => (string?)r!["tenant_id"]), Is.All.EqualTo(tenantA.ToString()));
        Assert.That(rows.Select(r => (string?)r!["resource_id"]), Has.None.EqualTo(idB));
    }
}
