using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Tenants;
using Platform.Models;

namespace Platform.Tests.Tenants;

public sealed class TenantsApiTests : DatabaseTest
{
    [Test]
    public async Task Creating_a_tenant_makes_the_caller_owner_with_a_14_day_trial()
    {
        var owner = await TestApi.SignUpAsync();
        using var response = await TestApi.Client(owner.Token).PostAsJsonAsync("/v1/tenants", new { name = "Acme", slug = "acme" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var tenant = await TestApi.ReadAsync(response);
        var trialEnds = DateTimeOffset.Parse((string)tenant["trial_ends_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That((string?)tenant["slug"], Is.EqualTo("acme"));
            Assert.That((string?)tenant["status"], Is.EqualTo("trial"));
            Assert.That((string?)tenant["role"], Is.EqualTo("owner"));
            Assert.That((string?)tenant["plan"], Is.EqualTo("professional"));
            Assert.That(trialEnds - DateTimeOffset.UtcNow, Is.EqualTo(TimeSpan.FromDays(14)).Within(TimeSpan.FromMinutes(1)));
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/v1/tenants/{tenant["id"]}"));
            Assert.That((string?)tenant["created_at"], Does.EndWith("Z"));
        });
    }

    [Test]
    public async Task The_free_plan_starts_active_with_its_own_quotas()
    {
        var owner = await TestApi.SignUpAsync();
        using var response = await TestApi.Client(owner.Token).PostAsJsonAsync("/v1/tenants", new { name = "Tiny", slug = "tiny", plan = "free" });
        var tenant = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)tenant["status"], Is.EqualTo("active"));
            Assert.That((int?)tenant["max_api_keys"], Is.EqualTo(Platform.Models.Plans.PlanCatalog.Get("free").Limits.MaxApiKeys));
        });
    }

    [TestCase("ab")]
    [TestCase("-abc")]
    [TestCase("abc-")]
    [TestCase("a--bc")]
    [TestCase("ABC")]
    [TestCase("with space")]
    public async Task An_invalid_slug_gets_422_naming_the_field(string slug)
    {
        var owner = await TestApi.SignUpAsync();
        using var response = await TestApi.Client(owner.Token).PostAsJsonAsync("/v1/tenants", new { name = "X", slug });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["slug"], Is.Not.Null);
    }

    [Test]
    public async Task A_taken_slug_gets_409()
    {
        var owner = await TestApi.SignUpAsync();
        await TestApi.CreateTenantAsync(owner, "taken-slug");
        var other = await TestApi.SignUpAsync();
        using var response = await TestApi.Client(other.Token).PostAsJsonAsync("/v1/tenants", new { name = "X", slug = "taken-slug" });
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.Conflict, "slug_taken");
    }

    [Test]
    public async Task Twenty_parallel_creates_with_one_slug_admit_exactly_one()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => TestApi.SignUpAsync()));
        var responses = await Task.WhenAll(users.Select(u =>
            TestApi.Client(u.Token).PostAsJsonAsync("/v1/tenants", new { name = "Race", slug = "race-slug" })));
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(19));
        });
    }

    [Test]
    public async Task Listing_my_tenants_pages_with_a_cursor_and_shows_only_mine()
    {
        var owner = await TestApi.SignUpAsync();
        var mine = new HashSet<Guid>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await TestApi.CreateTenantAsync(owner));
        }
        await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = "/v1/tenants?limit=2" + (cursor is null ? "" : "&cursor=" + cursor);
            var page = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync(url));
            seen.AddRange(page["data"]!.AsArray().Select(t => Guid.Parse((string)t!["id"]!)));
            cursor = (string?)page["next_cursor"];
            pages++;
        }
        while (cursor is not null);

        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EquivalentTo(mine));
            Assert.That(pages, Is.EqualTo(3));
        });
    }

    [Test]
    public async Task A_bad_cursor_or_limit_gets_a_4xx_problem()
    {
        var owner = await TestApi.SignUpAsync();
        using var cursor = await TestApi.Client(owner.Token).GetAsync("/v1/tenants?cursor=bogus");
        await TestApi.ExpectProblemAsync(cursor, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var limit = await TestApi.Client(owner.Token).GetAsync("/v1/tenants?limit=500");
        await TestApi.ExpectProblemAsync(limit, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var nan = await TestApi.Client(owner.Token).GetAsync("/v1/tenants?limit=abc");
        await TestApi.ExpectProblemAsync(nan, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Test]
    public async Task Current_resolves_from_the_tenant_header_and_from_the_host()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, "hosted");
        var client = TestApi.Client(owner.Token);

        using var byHeader = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current");
        byHeader.Headers.Add("X-Tenant-ID", tenant.ToString());
        var viaHeader = await TestApi.ReadAsync(await client.SendAsync(byHeader));

        using var byHost = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current");
        byHost.Headers.Host = "hosted.platform.localhost";
        var viaHost = await TestApi.ReadAsync(await client.SendAsync(byHost));

        using var unknownHost = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current");
        unknownHost.Headers.Host = "nobody-here.platform.localhost";
        using var unknown = await client.SendAsync(unknownHost);

        Assert.Multiple(() =>
        {
            Assert.That((string?)viaHeader["id"], Is.EqualTo(tenant.ToString()));
            Assert.That((string?)viaHost["id"], Is.EqualTo(tenant.ToString()));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task Current_by_host_still_needs_membership()
    {
        var owner = await TestApi.SignUpAsync();
        await TestApi.CreateTenantAsync(owner, "private-co");
        var stranger = await TestApi.SignUpAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/tenants/current");
        request.Headers.Host = "private-co.platform.localhost";
        using var response = await TestApi.Client(stranger.Token).SendAsync(request);
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task An_admin_updates_the_tenant_and_the_change_is_audited()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenant, "admin");
        using var response = await TestApi.Client(admin.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}",
            new { name = "Renamed", billing_email = "billing@example.test", settings = new { theme = "dark" } });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["name"], Is.EqualTo("Renamed"));
            Assert.That((string?)body["settings"]!["theme"], Is.EqualTo("dark"));
        });
        var actions = await AuditActionsAsync(tenant);
        Assert.That(actions, Is.EqualTo(new[] { "tenant.created", "tenant.updated" }));
    }

    [Test]
    public async Task Settings_that_are_not_an_object_get_422()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        using var response = await TestApi.Client(owner.Token).SendAsync(
            TestApi.Request(HttpMethod.Patch, $"/v1/tenants/{tenant}", """{"settings":[1,2]}"""));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["settings"], Is.Not.Null);
    }

    [Test]
    public async Task Only_an_owner_deletes_and_a_deleted_tenant_leaves_the_list()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenant, "admin");
        using var byAdmin = await TestApi.Client(admin.Token).DeleteAsync($"/v1/tenants/{tenant}");
        await TestApi.ExpectProblemAsync(byAdmin, HttpStatusCode.Forbidden, "forbidden");

        using var byOwner = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenant}");
        await TestApi.ExpectAsync(byOwner, HttpStatusCode.OK);
        var deleted = await TestApi.ReadAsync(byOwner);
        var list = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync("/v1/tenants"));
        using var write = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "again" });
        Assert.Multiple(() =>
        {
            Assert.That((string?)deleted["status"], Is.EqualTo("deleted"));
            Assert.That((string?)deleted["deleted_at"], Is.Not.Null);
            Assert.That(list["data"]!.AsArray(), Is.Empty);
        });
        await TestApi.ExpectProblemAsync(write, HttpStatusCode.Forbidden, "tenant_suspended");
    }

    [Test]
    public async Task A_suspended_tenant_refuses_writes_and_member_reads_but_lets_owners_read()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var member = await TestApi.MemberAsync(tenant, "member");
        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new SuspendTenant(Caller.System, tenant, "fraud review"));
        }

        using var ownerRead = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}");
        await TestApi.ExpectAsync(ownerRead, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(ownerRead))["suspended_reason"], Is.EqualTo("fraud review"));
        using var ownerWrite = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "x" });
        await TestApi.ExpectProblemAsync(ownerWrite, HttpStatusCode.Forbidden, "tenant_suspended");
        using var memberRead = await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenant}/members");
        await TestApi.ExpectProblemAsync(memberRead, HttpStatusCode.Forbidden, "tenant_suspended");

        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new UnsuspendTenant(Caller.System, tenant));
        }
        using var afterwards = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "back" });
        await TestApi.ExpectAsync(afterwards, HttpStatusCode.OK);
    }

    [Test]
    public void A_tenant_user_cannot_suspend_a_tenant_in_process()
    {
        using var scope = TestApi.Services.CreateScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        Assert.ThrowsAsync<Platform.Models.Errors.ForbiddenException>(() =>
            mediator.Send(new SuspendTenant(Caller.User(Guid.NewGuid()), Guid.NewGuid(), "no")));
    }

    internal static async Task<string[]> AuditActionsAsync(Guid tenant)
    {
        await using var scope = await TenantScope.AppAsync(tenant);
        await using var query = scope.Command("SELECT action FROM audit_log ORDER BY occurred_at, id");
        var actions = new List<string>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            actions.Add(reader.GetString(0));
        }
        return [.. actions];
    }
}
