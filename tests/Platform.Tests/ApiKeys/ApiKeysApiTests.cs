using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;
using Platform.Models;

namespace Platform.Tests.ApiKeys;

public sealed class ApiKeysApiTests : DatabaseTest
{
    [Test]
    public async Task Creating_a_key_shows_the_secret_once_with_the_fixed_prefix_and_256_random_bits()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["runs:write", "usage:read"]);
        Assert.Multiple(() =>
        {
            Assert.That(key.Secret, Does.StartWith("pk_live_"));
            Assert.That(key.Secret, Has.Length.EqualTo("pk_live_".Length + 43));
            Assert.That((string?)key.Body["prefix"], Is.EqualTo(key.Secret[..16]));
            Assert.That((string?)key.Body["status"], Is.EqualTo("active"));
            Assert.That(key.Body["permissions"]!.AsArray().Select(p => (string?)p), Is.EqualTo(new[] { "runs:write", "usage:read" }));
        });
    }

    [Test]
    public async Task The_openapi_document_lists_the_key_and_feature_routes()
    {
        using var response = await TestApi.Client().GetAsync("/openapi/v1.json");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var paths = (await TestApi.ReadAsync(response))["paths"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(paths["/v1/tenants/{tenant_id}/api-keys"]!.AsObject().Select(p => p.Key), Is.SupersetOf(new[] { "get", "post" }));
            Assert.That(paths["/v1/tenants/{tenant_id}/api-keys/{key_id}"]!.AsObject().Select(p => p.Key), Does.Contain("delete"));
            Assert.That(paths["/v1/tenants/{tenant_id}/features"]!.AsObject().Select(p => p.Key), Does.Contain("get"));
        });
    }

    [Test]
    public async Task The_list_never_returns_the_secret()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using var response = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/api-keys");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        var body = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Not.Contain(key.Secret));
            Assert.That(text, Does.Not.Contain(key.Secret[16..]));
            Assert.That(body["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(body["data"]![0]!.AsObject().ContainsKey("key"), Is.False);
            Assert.That((string?)body["data"]![0]!["id"], Is.EqualTo(key.Id.ToString()));
            Assert.That(body["next_cursor"], Is.Null);
        });
    }

    [Test]
    public async Task Key_rows_stay_inside_their_tenant_even_for_the_schema_owner()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        await Keys.CreateAsync(ownerA.Token, tenantA);
        await Keys.CreateAsync(ownerB.Token, tenantB);
        var seen = await Keys.ReadRowAsync(tenantA, "SELECT count(*) AS n, count(*) FILTER (WHERE tenant_id <> @t) AS foreign_rows FROM api_keys", ("t", tenantA));
        Assert.That(seen!["n"], Is.EqualTo(1L));
        Assert.That(seen["foreign_rows"], Is.EqualTo(0L));
    }

    [Test]
    public async Task The_stored_hash_is_the_sha256_of_the_secret_and_no_column_holds_the_secret()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var row = await Keys.ReadRowAsync(tenantId, "SELECT key_hash, prefix, row_to_json(k)::text AS json FROM api_keys k WHERE id = @id", ("id", key.Id));
        Assert.That(row, Is.Not.Null);
        var hash = (byte[])row!["key_hash"]!;
        Assert.Multiple(() =>
        {
            Assert.That(hash, Is.EqualTo(SHA256.HashData(Encoding.UTF8.GetBytes(key.Secret))));
            Assert.That(hash, Is.Not.EqualTo(Encoding.UTF8.GetBytes(key.Secret)));
            Assert.That((string)row["prefix"]!, Has.Length.EqualTo(16));
            Assert.That((string)row["json"]!, Does.Not.Contain(key.Secret[16..]));
        });
    }

    [Test]
    public async Task A_key_authenticates_on_its_tenants_routes_current_means_its_tenant_and_it_may_not_name_another()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var other = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);

        using var direct = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectAsync(direct, HttpStatusCode.OK);
        using var current = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(current, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(current))["tenant_id"], Is.EqualTo(tenantId.ToString()));

        var same = TestApi.Client(key.Secret);
        same.DefaultRequestHeaders.Add("X-Tenant-ID", tenantId.ToString());
        using var sameTenant = await same.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(sameTenant, HttpStatusCode.OK);
        var naming = TestApi.Client(key.Secret);
        naming.DefaultRequestHeaders.Add("X-Tenant-ID", other.ToString());
        using var otherTenant = await naming.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(otherTenant, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_key_of_tenant_A_on_tenant_Bs_route_gets_404()
    {
        var ownerA = await TestApi.SignUpAsync();
        var tenantA = await TestApi.CreateTenantAsync(ownerA);
        var ownerB = await TestApi.SignUpAsync();
        var tenantB = await TestApi.CreateTenantAsync(ownerB);
        var key = await Keys.CreateAsync(ownerA.Token, tenantA);

        using var features = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantB}/features");
        await TestApi.ExpectProblemAsync(features, HttpStatusCode.NotFound, "not_found");
        using var keys = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantB}/api-keys");
        await TestApi.ExpectProblemAsync(keys, HttpStatusCode.NotFound, "not_found");
        using var tenant = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantB}");
        await TestApi.ExpectProblemAsync(tenant, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_key_without_the_permission_a_route_needs_gets_403()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["usage:read"]);

        using var list = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantId}/api-keys");
        await TestApi.ExpectProblemAsync(list, HttpStatusCode.Forbidden, "forbidden");
        using var create = await TestApi.Client(key.Secret).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "child", permissions = new[] { "usage:read" } });
        await TestApi.ExpectProblemAsync(create, HttpStatusCode.Forbidden, "forbidden");
        using var members = await TestApi.Client(key.Secret).GetAsync($"/v1/tenants/{tenantId}/members");
        await TestApi.ExpectProblemAsync(members, HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task The_gate_gives_a_key_exactly_the_permissions_it_holds()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var gate = TestApi.Services.GetRequiredService<Platform.Engines.Sessions.TenantGate>();
        var caller = Caller.ApiKey(Guid.NewGuid(), tenantId, new HashSet<string> { "runs:read" });

        await using (var scope = await gate.EnterAsync(tenantId, caller, Platform.Models.Tenants.TenantRole.Member, Platform.Engines.Sessions.Access.Read, CancellationToken.None, keyPermission: "runs:read"))
        {
            Assert.That(scope.Tenant.Id, Is.EqualTo(tenantId));
        }
        Assert.ThrowsAsync<Platform.Models.Errors.ForbiddenException>(async () =>
            await gate.EnterAsync(tenantId, caller, Platform.Models.Tenants.TenantRole.Member, Platform.Engines.Sessions.Access.Write, CancellationToken.None, keyPermission: "runs:write"));
    }

    [Test]
    public async Task A_key_cannot_act_on_user_only_routes()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);

        using var create = await TestApi.Client(key.Secret).PostAsJsonAsync("/v1/tenants", new { name = "By key", slug = "by-key-" + Guid.NewGuid().ToString("N")[..6] });
        await TestApi.ExpectProblemAsync(create, HttpStatusCode.Unauthorized, "unauthorized");
        using var me = await TestApi.Client(key.Secret).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(me, HttpStatusCode.Unauthorized, "unauthorized");
        using var mine = await TestApi.Client(key.Secret).GetAsync("/v1/tenants");
        await TestApi.ExpectProblemAsync(mine, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Unknown_or_malformed_keys_get_401()
    {
        var unknown = "pk_live_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        foreach (var secret in new[] { unknown, "pk_live_short", "pk_live_" + new string('!', 43) })
        {
            using var response = await TestApi.Client(secret).GetAsync($"/v1/tenants/current/features");
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        }
    }

    [Test]
    public async Task Every_key_route_answers_401_without_credentials()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var client = TestApi.Client();
        using var create = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "x", permissions = new[] { "runs:read" } });
        await TestApi.ExpectProblemAsync(create, HttpStatusCode.Unauthorized, "unauthorized");
        using var list = await client.GetAsync($"/v1/tenants/{tenantId}/api-keys");
        await TestApi.ExpectProblemAsync(list, HttpStatusCode.Unauthorized, "unauthorized");
        using var revoke = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
        await TestApi.ExpectProblemAsync(revoke, HttpStatusCode.Unauthorized, "unauthorized");
        using var features = await client.GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectProblemAsync(features, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Other_tenants_users_get_404_on_every_key_route()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var stranger = await TestApi.SignUpAsync();
        await TestApi.CreateTenantAsync(stranger);
        var client = TestApi.Client(stranger.Token);

        using var create = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "x", permissions = new[] { "runs:read" } });
        await TestApi.ExpectProblemAsync(create, HttpStatusCode.NotFound, "not_found");
        using var list = await client.GetAsync($"/v1/tenants/{tenantId}/api-keys");
        await TestApi.ExpectProblemAsync(list, HttpStatusCode.NotFound, "not_found");
        using var revoke = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
        await TestApi.ExpectProblemAsync(revoke, HttpStatusCode.NotFound, "not_found");
        using var features = await client.GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectProblemAsync(features, HttpStatusCode.NotFound, "not_found");
        // The key still works: the stranger changed nothing.
        using var still = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(still, HttpStatusCode.OK);
    }

    [Test]
    public async Task Viewers_and_members_cannot_manage_keys_but_viewers_read_features()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var member = await TestApi.MemberAsync(tenantId, "member");

        foreach (var user in new[] { viewer, member })
        {
            var client = TestApi.Client(user.Token);
            using var create = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "x", permissions = new[] { "runs:read" } });
            await TestApi.ExpectProblemAsync(create, HttpStatusCode.Forbidden, "forbidden");
            using var revoke = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
            await TestApi.ExpectProblemAsync(revoke, HttpStatusCode.Forbidden, "forbidden");
            using var list = await client.GetAsync($"/v1/tenants/{tenantId}/api-keys");
            await TestApi.ExpectProblemAsync(list, HttpStatusCode.Forbidden, "forbidden");
        }
        using var features = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectAsync(features, HttpStatusCode.OK);
        var count = await Keys.ReadRowAsync(tenantId, "SELECT count(*) AS n, count(revoked_at) AS revoked FROM api_keys");
        Assert.That(count!["n"], Is.EqualTo(1L));
        Assert.That(count["revoked"], Is.EqualTo(0L));
    }

    [TestCase("{}", "name")]
    [TestCase("""{"name":"k"}""", "permissions")]
    [TestCase("""{"name":"k","permissions":["runs:delete"]}""", "permissions")]
    [TestCase("""{"name":"k","permissions":["runs:read","runs:read"]}""", "permissions")]
    [TestCase("""{"name":"k","permissions":["runs:read"],"rate_limit_rpm":0}""", "rate_limit_rpm")]
    [TestCase("""{"name":"k","permissions":["runs:read"],"max_concurrent_runs":-3}""", "max_concurrent_runs")]
    [TestCase("""{"name":"k","permissions":["runs:read"],"expires_at":"2001-01-01T00:00:00Z"}""", "expires_at")]
    [TestCase("""{"name":"k","permissions":["runs:read"],"allowed_workers":[""]}""", "allowed_workers")]
    public async Task Bad_key_input_gets_422_naming_the_field_and_writes_nothing(string json, string field)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        using var response = await TestApi.Client(owner.Token).SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys", json));
        var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(body["errors"]!.AsObject().Select(e => e.Key.Split('[')[0]), Does.Contain(field));
        var row = await Keys.ReadRowAsync(tenantId, "SELECT count(*) AS n FROM api_keys");
        Assert.That(row!["n"], Is.EqualTo(0L));
    }

    [TestCase("""{"name":"k","permissions":"runs:read"}""", 422)]
    [TestCase("""{"name":"k","permissions":["runs:read"],"rate_limit_rpm":"ten"}""", 422)]
    [TestCase("""{"name":"k","permissions":["runs:read"],"expires_at":"tomorrow"}""", 422)]
    [TestCase("not json", 400)]
    public async Task Malformed_key_bodies_get_400_and_values_of_the_wrong_kind_422_problem_details(string json, int status)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        using var response = await TestApi.Client(owner.Token).SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys", json));
        await TestApi.ExpectProblemAsync(response, (HttpStatusCode)status, "validation_failed");
    }

    [Test]
    public async Task Revoking_an_unknown_or_malformed_key_id_gets_404_and_twice_gets_409()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var client = TestApi.Client(owner.Token);
        using var unknown = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{Guid.NewGuid()}");
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        using var malformed = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/not-a-uuid");
        await TestApi.ExpectProblemAsync(malformed, HttpStatusCode.NotFound, "not_found");
        using var first = await client.SendAsync(TestApi.Request(HttpMethod.Delete, $"/v1/tenants/{tenantId}/api-keys/{key.Id}", """{"reason":"leaked in a log"}"""));
        await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(first);
        Assert.That((string?)body["status"], Is.EqualTo("revoked"));
        Assert.That((string?)body["revoked_reason"], Is.EqualTo("leaked in a log"));
        using var second = await client.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
        await TestApi.ExpectProblemAsync(second, HttpStatusCode.Conflict, "already_revoked");
    }

    [Test]
    public async Task A_revoked_key_is_refused_on_its_next_request_and_the_revocation_is_audited()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        using var revoke = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
        await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        using var refused = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");

        var audit = await Keys.ReadRowAsync(tenantId, "SELECT actor_type, actor_id, new_values::text AS new_values FROM audit_log WHERE action = 'api_key.revoked'");
        Assert.That(audit, Is.Not.Null);
        Assert.That(audit!["actor_id"], Is.EqualTo(owner.Id));
        var created = await Keys.ReadRowAsync(tenantId, "SELECT new_values::text AS new_values FROM audit_log WHERE action = 'api_key.created'");
        Assert.That((string)created!["new_values"]!, Does.Not.Contain(key.Secret[16..]));
    }

    [Test]
    public async Task A_key_revoked_through_one_host_is_refused_by_the_other_host_on_its_next_request()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using var hostA = Keys.NewHost();
        using var hostB = Keys.NewHost();
        var clientA = hostA.Client(owner.Token);
        var keyOnB = hostB.Client(key.Secret);
        await Keys.WaitUntilListeningAsync(hostA.Services);
        await Keys.WaitUntilListeningAsync(hostB.Services);

        // B now holds the key in its cache.
        for (var i = 0; i < 3; i++)
        {
            using var ok = await keyOnB.GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        Assert.That(hostB.Services.GetRequiredService<ApiKeyCache>().Count, Is.EqualTo(1));
        // The revoking instance waits for the acknowledgements of this many listeners: the shared test host, A and B.
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        await using (var session = await TestApi.Services.GetRequiredService<Platform.Drivers.Sessions.IDbSessionFactory>().OpenAsync(null, null, CancellationToken.None))
        {
            var listeners = await TestApi.Services.GetRequiredService<Platform.Drivers.ApiKeys.IApiKeyDriver>().CountChangeListenersAsync(session, CancellationToken.None);
            Assert.That(listeners, Is.EqualTo(3));
        }

        using var revoke = await clientA.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.Id}");
        await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        using var refused = await keyOnB.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task An_expired_key_is_refused()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var clock = new StoppedClock(DateTimeOffset.UtcNow);
        using var host = Keys.NewHost(s => s.AddSingleton<IClock>(clock));
        using var create = await host.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys",
            new { name = "short-lived", permissions = new[] { "runs:read" }, expires_at = clock.UtcNow.AddHours(1) });
        await TestApi.ExpectAsync(create, HttpStatusCode.Created);
        var secret = (string)(await TestApi.ReadAsync(create))["key"]!;
        var client = host.Client(secret);
        using var ok = await client.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(ok, HttpStatusCode.OK);

        clock.UtcNow = clock.UtcNow.AddHours(1);
        using var refused = await client.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        using var list = await host.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/api-keys");
        Assert.That((string?)(await TestApi.ReadAsync(list))["data"]![0]!["status"], Is.EqualTo("expired"));
    }

    [Test]
    public async Task A_frozen_key_is_refused_until_an_operator_unfreezes_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        using var before = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(before, HttpStatusCode.OK);

        var operatorCaller = Caller.Operator(Guid.NewGuid(), "support");
        using (var scope = TestApi.Services.CreateScope())
        {
            var frozen = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new FreezeApiKey(operatorCaller, key.Id, "abuse report 42"));
            Assert.That(frozen.FrozenAt, Is.Not.Null);
        }
        using var refused = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");

        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new UnfreezeApiKey(operatorCaller, key.Id));
        }
        using var after = await TestApi.Client(key.Secret).GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(after, HttpStatusCode.OK);
    }

    [Test]
    public async Task Only_operators_and_the_system_freeze_keys()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using var scope = TestApi.Services.CreateScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        Assert.ThrowsAsync<Platform.Models.Errors.ForbiddenException>(async () => await mediator.Send(new FreezeApiKey(Caller.User(owner.Id), key.Id, "mine")));
        Assert.ThrowsAsync<Platform.Models.Errors.NotFoundException>(async () => await mediator.Send(new FreezeApiKey(Caller.System, Guid.NewGuid(), "none")));
        var frozen = await mediator.Send(new FreezeApiKey(Caller.System, key.Id, "billing hold"));
        Assert.That(frozen.FrozenReason, Is.EqualTo("billing hold"));
        Assert.ThrowsAsync<Platform.Models.Errors.ConflictException>(async () => await mediator.Send(new FreezeApiKey(Caller.System, key.Id, "again")));
    }
}
