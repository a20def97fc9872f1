using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Tenants;

namespace Platform.Tests.Members;

public sealed class MembersApiTests : DatabaseTest
{
    [Test]
    public async Task Members_are_listed_with_their_roles_and_pages()
    {
        var owner = await TestApi.SignUpAsync("Owner");
        var tenant = await TestApi.CreateTenantAsync(owner);
        var viewer = await TestApi.MemberAsync(tenant, "viewer");
        await TestApi.MemberAsync(tenant, "member");

        var first = await TestApi.ReadAsync(await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenant}/members?limit=2"));
        var second = await TestApi.ReadAsync(await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenant}/members?limit=2&cursor={first["next_cursor"]}"));
        var all = first["data"]!.AsArray().Concat(second["data"]!.AsArray()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all.Select(m => (string?)m!["role"]), Is.EquivalentTo(new[] { "owner", "viewer", "member" }));
            Assert.That(all.Single(m => (string?)m!["role"] == "owner")!["email"]!.GetValue<string>(), Is.EqualTo(owner.Email));
            Assert.That((string?)second["next_cursor"], Is.Null);
        });
    }

    [Test]
    public async Task An_admin_changes_roles_below_owner_but_not_owners()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenant, "admin");
        var member = await TestApi.MemberAsync(tenant, "member");
        var client = TestApi.Client(admin.Token);

        using var promote = await client.PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{member.Id}", new { role = "admin" });
        await TestApi.ExpectAsync(promote, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(promote))["role"], Is.EqualTo("admin"));

        using var toOwner = await client.PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{member.Id}", new { role = "owner" });
        await TestApi.ExpectProblemAsync(toOwner, HttpStatusCode.Forbidden, "forbidden");
        using var demoteOwner = await client.PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{owner.Id}", new { role = "viewer" });
        await TestApi.ExpectProblemAsync(demoteOwner, HttpStatusCode.Forbidden, "forbidden");
        using var removeOwner = await client.DeleteAsync($"/v1/tenants/{tenant}/members/{owner.Id}");
        await TestApi.ExpectProblemAsync(removeOwner, HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task A_member_cannot_manage_members_but_can_leave()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenant, "member");
        var other = await TestApi.MemberAsync(tenant, "viewer");

        using var manage = await TestApi.Client(member.Token).DeleteAsync($"/v1/tenants/{tenant}/members/{other.Id}");
        await TestApi.ExpectProblemAsync(manage, HttpStatusCode.Forbidden, "forbidden");
        using var leave = await TestApi.Client(member.Token).DeleteAsync($"/v1/tenants/{tenant}/members/{member.Id}");
        await TestApi.ExpectAsync(leave, HttpStatusCode.NoContent);
        using var after = await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenant}");
        await TestApi.ExpectProblemAsync(after, HttpStatusCode.NotFound, "not_found");
        Assert.That(await TenantsApiTests.AuditActionsAsync(tenant), Does.Contain("member.left"));
    }

    [Test]
    public async Task The_last_owner_can_neither_be_demoted_nor_leave()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        using var demote = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{owner.Id}", new { role = "admin" });
        await TestApi.ExpectProblemAsync(demote, HttpStatusCode.Conflict, "last_owner");
        using var leave = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenant}/members/{owner.Id}");
        await TestApi.ExpectProblemAsync(leave, HttpStatusCode.Conflict, "last_owner");
    }

    [Test]
    public async Task Two_owners_demoting_each_other_at_once_leave_exactly_one_owner([Values(1, 2, 3, 4, 5)] int round)
    {
        var first = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(first);
        var second = await TestApi.MemberAsync(tenant, "owner");

        var responses = await Task.WhenAll(
            TestApi.Client(first.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{second.Id}", new { role = "admin" }),
            TestApi.Client(second.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{first.Id}", new { role = "admin" }));

        var members = await TestApi.ReadAsync(await TestApi.Client(first.Token).GetAsync($"/v1/tenants/{tenant}/members"));
        var owners = members["data"]!.AsArray().Count(m => (string?)m!["role"] == "owner");
        Assert.Multiple(() =>
        {
            Assert.That(owners, Is.EqualTo(1), $"round {round}");
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(1));
            // The loser either saw one owner left (409) or had already been demoted to admin (403).
            Assert.That(responses.Count(r => r.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Forbidden), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Removing_an_unknown_member_gets_404_and_a_bad_role_gets_422()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        using var unknown = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenant}/members/{Guid.NewGuid()}");
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        using var notUuid = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenant}/members/42");
        await TestApi.ExpectProblemAsync(notUuid, HttpStatusCode.NotFound, "not_found");
        using var badRole = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}/members/{owner.Id}", new { role = "emperor" });
        var problem = await TestApi.ExpectProblemAsync(badRole, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["role"], Is.Not.Null);
    }
}
