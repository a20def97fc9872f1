using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.ApiKeys;

/// <summary>Checks the custody rule of ADR 0195: a key that is not a service key lives only while its creator is an admin or owner of the tenant.</summary>
public sealed class KeyCustodyTests : DatabaseTest
{
    [Test]
    public async Task A_removed_admins_key_gets_401_on_its_next_request_also_on_another_host_and_the_revocation_is_audited()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var key = await Keys.CreateAsync(admin.Token, tenantId);
        using var other = Keys.NewHost();
        var keyOnOther = other.Client(key.Secret);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        await Keys.WaitUntilListeningAsync(other.Services);
        // Both hosts hold the key in their caches.
        await ExpectKeyWorksAsync(TestApi.Client(key.Secret));
        await ExpectKeyWorksAsync(keyOnOther);

        using var remove = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/members/{admin.Id}");
        await TestApi.ExpectAsync(remove, HttpStatusCode.NoContent);

        using var here = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(here, HttpStatusCode.Unauthorized, "unauthorized");
        using var there = await keyOnOther.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(there, HttpStatusCode.Unauthorized, "unauthorized");

        var row = await Keys.ReadRowAsync(tenantId,
            "SELECT revoked_reason, (SELECT api_keys_active FROM tenants WHERE id = @t) AS active FROM api_keys WHERE id = @id",
            ("t", tenantId), ("id", key.Id));
        var audit = await Keys.ReadRowAsync(tenantId,
            "SELECT actor_id, new_values->>'reason' AS reason, old_values->>'created_by' AS created_by FROM audit_log WHERE action = 'api_key.revoked' AND resource_id = @id",
            ("id", key.Id.ToString()));
        Assert.Multiple(() =>
        {
            Assert.That(row!["revoked_reason"], Is.EqualTo("creator_removed"));
            Assert.That(row["active"], Is.EqualTo(0));
            Assert.That(audit, Is.Not.Null, "each revocation has its audit row");
            Assert.That(audit!["actor_id"], Is.EqualTo(owner.Id));
            Assert.That(audit["reason"], Is.EqualTo("creator_removed"));
            Assert.That(audit["created_by"], Is.EqualTo(admin.Id.ToString()));
        });
    }

    [Test]
    public async Task An_admin_who_leaves_loses_every_key_they_created_but_not_the_keys_of_others()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var first = await Keys.CreateAsync(admin.Token, tenantId);
        var second = await Keys.CreateAsync(admin.Token, tenantId);
        var owners = await Keys.CreateAsync(owner.Token, tenantId);

        using var leave = await TestApi.Client(admin.Token).DeleteAsync($"/v1/tenants/{tenantId}/members/{admin.Id}");
        await TestApi.ExpectAsync(leave, HttpStatusCode.NoContent);

        foreach (var gone in new[] { first, second })
        {
            using var refused = await TestApi.Client(gone.Secret).GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }
        await ExpectKeyWorksAsync(TestApi.Client(owners.Secret));
        var audits = await Keys.ReadRowAsync(tenantId,
            "SELECT count(*) AS n, min(new_values->>'reason') AS reason FROM audit_log WHERE action = 'api_key.revoked'");
        Assert.Multiple(() =>
        {
            Assert.That(audits!["n"], Is.EqualTo(2L));
            Assert.That(audits["reason"], Is.EqualTo("creator_left"));
        });
    }

    [Test]
    public async Task A_service_key_survives_its_creator_leaving_and_only_owners_may_create_one()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var secondOwner = await TestApi.MemberAsync(tenantId, "owner");
        var admin = await TestApi.MemberAsync(tenantId, "admin");

        using var refused = await TestApi.Client(admin.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys",
            new { name = "svc", permissions = new[] { "usage:read" }, service_key = true });
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");

        using var created = await TestApi.Client(secondOwner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys",
            new { name = "svc", permissions = new[] { "runs:read", "usage:read" }, service_key = true });
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var body = await TestApi.ReadAsync(created);
        Assert.That((bool?)body["service_key"], Is.True);
        var plain = await Keys.CreateAsync(secondOwner.Token, tenantId);

        using var leave = await TestApi.Client(secondOwner.Token).DeleteAsync($"/v1/tenants/{tenantId}/members/{secondOwner.Id}");
        await TestApi.ExpectAsync(leave, HttpStatusCode.NoContent);

        await ExpectKeyWorksAsync(TestApi.Client((string)body["key"]!));
        using var gone = await TestApi.Client(plain.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(gone, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Demoting_an_admin_below_admin_revokes_their_keys_and_owner_to_admin_does_not()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var coOwner = await TestApi.MemberAsync(tenantId, "owner");
        var adminKey = await Keys.CreateAsync(admin.Token, tenantId);
        var coOwnerKey = await Keys.CreateAsync(coOwner.Token, tenantId);
        var client = TestApi.Client(owner.Token);

        using var toAdmin = await client.PatchAsJsonAsync($"/v1/tenants/{tenantId}/members/{coOwner.Id}", new { role = "admin" });
        await TestApi.ExpectAsync(toAdmin, HttpStatusCode.OK);
        await ExpectKeyWorksAsync(TestApi.Client(coOwnerKey.Secret));

        using var toMember = await client.PatchAsJsonAsync($"/v1/tenants/{tenantId}/members/{admin.Id}", new { role = "member" });
        await TestApi.ExpectAsync(toMember, HttpStatusCode.OK);
        using var refused = await TestApi.Client(adminKey.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        var row = await Keys.ReadRowAsync(tenantId, "SELECT revoked_reason FROM api_keys WHERE id = @id", ("id", adminKey.Id));
        Assert.That(row!["revoked_reason"], Is.EqualTo("creator_demoted"));
    }

    [Test]
    public async Task Erasing_the_account_revokes_the_keys_the_user_created_in_every_tenant()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(owner);
        var tenantB = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantA, "admin");
        await TestApi.AddMemberAsync(tenantB, admin.Id, "admin");
        var keyA = await Keys.CreateAsync(admin.Token, tenantA);
        var keyB = await Keys.CreateAsync(admin.Token, tenantB);

        using var erase = await TestApi.Client(admin.Token).DeleteAsync("/v1/me");
        await TestApi.ExpectAsync(erase, HttpStatusCode.NoContent);

        foreach (var (tenantId, key) in new[] { (tenantA, keyA), (tenantB, keyB) })
        {
            using var refused = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
            var audit = await Keys.ReadRowAsync(tenantId,
                "SELECT actor_id, new_values->>'reason' AS reason FROM audit_log WHERE action = 'api_key.revoked' AND resource_id = @id",
                ("id", key.Id.ToString()));
            Assert.That(audit!["reason"], Is.EqualTo("creator_erased"));
        }
    }

    [Test]
    public async Task The_list_shows_each_keys_creator_whether_the_creator_is_still_a_member_and_the_service_flag()
    {
        var owner = await TestApi.SignUpAsync("Olga Owner");
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var ownerKey = await Keys.CreateAsync(owner.Token, tenantId);
        var adminKey = await Keys.CreateAsync(admin.Token, tenantId);
        using (var remove = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/members/{admin.Id}"))
        {
            await TestApi.ExpectAsync(remove, HttpStatusCode.NoContent);
        }

        using var list = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/api-keys");
        await TestApi.ExpectAsync(list, HttpStatusCode.OK);
        var data = (await TestApi.ReadAsync(list))["data"]!.AsArray();
        JsonNode Of(CreatedKey k) => data.Single(d => (string?)d!["id"] == k.Id.ToString())!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)Of(ownerKey)["created_by"], Is.EqualTo(owner.Id.ToString()));
            Assert.That((string?)Of(ownerKey)["created_by_email"], Is.EqualTo(owner.Email));
            Assert.That((string?)Of(ownerKey)["created_by_name"], Is.EqualTo("Olga Owner"));
            Assert.That((bool?)Of(ownerKey)["creator_is_member"], Is.True);
            Assert.That((bool?)Of(ownerKey)["service_key"], Is.False);
            Assert.That((string?)Of(adminKey)["created_by"], Is.EqualTo(admin.Id.ToString()));
            Assert.That((bool?)Of(adminKey)["creator_is_member"], Is.False);
            Assert.That((string?)Of(adminKey)["status"], Is.EqualTo("revoked"));
            Assert.That((string?)Of(adminKey)["revoked_reason"], Is.EqualTo("creator_removed"));
        });
    }

    private static async Task ExpectKeyWorksAsync(HttpClient client)
    {
        using var ok = await client.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
    }
}
