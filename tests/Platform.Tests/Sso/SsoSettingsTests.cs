using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Sso;

/// <summary>Proves the SSO settings routes (ADR 0620): admins set them, the client secret is kept encrypted and never returned, members below
/// admin see a redacted view, bad input gets 422 naming each field, a domain is claimed by one tenant only, other tenants get 404 and a plan
/// without sso gets 403 feature_not_in_plan.</summary>
public sealed class SsoSettingsTests : DatabaseTest
{
    private WebApplicationFactory<Program> host = null!;

    [OneTimeSetUp]
    public void StartHost() => host = SsoTestBed.LoopbackHost();

    [OneTimeTearDown]
    public void StopHost() => host.Dispose();

    private static object Settings(string[]? domains = null, string? secret = "s3cret-value", bool enforce = false) => new
    {
        issuer = "https://idp.example.com",
        client_id = "platform-client",
        client_secret = secret,
        domains = domains ?? ["Example.COM."],
        default_role = "viewer",
        group_claim = "groups",
        group_roles = new Dictionary<string, string> { ["eng-admins"] = "admin" },
        enforce,
    };

    [Test]
    public async Task An_admin_sets_the_settings_the_secret_is_encrypted_and_never_returned_and_a_viewer_sees_them_redacted()
    {
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        var client = host.Client(owner.Token);
        using (var put = await SsoTestBed.PutSettingsAsync(client, tenantId, Settings()))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(put);
            Assert.That(body.ToJsonString(), Does.Not.Contain("s3cret-value"));
            Assert.That(body["domains"]!.AsArray().Select(d => (string?)d).ToList(), Is.EqualTo(new[] { "example.com" }));
            Assert.That((bool)body["client_secret_set"]!, Is.True);
            Assert.That((string?)body["default_role"], Is.EqualTo("viewer"));
            Assert.That((string?)body["group_roles"]!["eng-admins"], Is.EqualTo("admin"));
        }

        await using (var scope = await Testing.TenantScope.OwnerAsync(tenantId))
        {
            var stored = (string?)await scope.ScalarAsync("SELECT client_secret_protected FROM tenant_sso_settings WHERE tenant_id = @t", ("t", tenantId));
            Assert.That(stored, Is.Not.Null.And.Not.Contain("s3cret-value"));
        }

        // Left out, the secret stays; the audit row says it was set without holding it.
        await SsoTestBed.ConfigureAsync(client, tenantId, Settings(secret: null));
        var audit = await SsoTestBed.AuditAsync(tenantId, "sso.settings");
        Assert.That(audit.Select(a => a.Action), Is.EqualTo(new[] { "sso.settings_updated", "sso.settings_updated" }));
        Assert.That(audit.All(a => a.NewValues!.Contains("client_secret_changed") && !a.NewValues.Contains("s3cret")), Is.True);

        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        using var read = await host.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/sso");
        await TestApi.ExpectAsync(read, HttpStatusCode.OK);
        var redacted = await TestApi.ReadAsync(read);
        Assert.Multiple(() =>
        {
            Assert.That((bool)redacted["redacted"]!, Is.True);
            Assert.That(redacted["client_id"], Is.Null);
            Assert.That(redacted["group_roles"], Is.Null);
            Assert.That((string?)redacted["issuer"], Is.EqualTo("https://idp.example.com"));
        });
        using var viewerPut = await SsoTestBed.PutSettingsAsync(host.Client(viewer.Token), tenantId, Settings());
        await TestApi.ExpectProblemAsync(viewerPut, HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task Bad_input_gets_422_naming_each_field_and_writes_nothing()
    {
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        var client = host.Client(owner.Token);
        using (var first = await SsoTestBed.PutSettingsAsync(client, tenantId, new { issuer = "https://idp.example.com", client_id = "c" }))
        {
            var problem = await TestApi.ExpectProblemAsync(first, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!["client_secret"], Is.Not.Null);
        }
        using (var bad = await SsoTestBed.PutSettingsAsync(client, tenantId, new
        {
            issuer = "http://idp.example.com",
            client_id = " ",
            client_secret = "x",
            domains = new[] { "ok.example", "10.0.0.1", "*.wild.example", "no_underscore.example", "single" },
            default_role = "owner",
            group_roles = new Dictionary<string, string> { ["g"] = "superuser" },
        }))
        {
            var problem = await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            var errors = problem["errors"]!.AsObject().Select(p => p.Key).ToList();
            Assert.That(errors, Is.SupersetOf(new[] { "issuer", "client_id", "domains[1]", "domains[2]", "domains[3]", "domains[4]", "default_role", "group_claim", "group_roles.g" }));
            Assert.That(errors, Does.Not.Contain("domains[0]"));
        }
        using (var notJson = await client.PutAsync($"/v1/tenants/{tenantId}/sso", new StringContent("{", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.That((int)notJson.StatusCode, Is.EqualTo(400));
        }
        using (var wrongKind = await SsoTestBed.PutSettingsAsync(client, tenantId, new { issuer = 5, client_id = "c", client_secret = "s" }))
        {
            Assert.That((int)wrongKind.StatusCode, Is.EqualTo(422));
        }
        // The embedded default's loopback issuer is refused where Sso:AllowLoopbackIssuer is off (the shared host).
        using (var loopback = await SsoTestBed.PutSettingsAsync(TestApi.Client(owner.Token), tenantId, new { issuer = "http://127.0.0.1:9", client_id = "c", client_secret = "s" }))
        {
            var problem = await TestApi.ExpectProblemAsync(loopback, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!["issuer"], Is.Not.Null);
        }
        using var get = await client.GetAsync($"/v1/tenants/{tenantId}/sso");
        await TestApi.ExpectProblemAsync(get, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_domain_the_tenant_has_not_verified_by_dns_cannot_be_claimed()
    {
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        var client = host.Client(owner.Token);
        await TestApi.VerifiedDomainsAsync(tenantId, ["mine.example"]);
        // gmail.com stands for any public mail domain: claiming it would let this tenant's identity provider vouch for everyone's address.
        using (var refused = await SsoTestBed.PutSettingsAsync(client, tenantId, Settings(["mine.example", "gmail.com"]), verify: false))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "domain_not_verified");
            Assert.That(problem["domains"]!.AsArray().Select(d => (string?)d), Is.EqualTo(new[] { "gmail.com" }));
        }
        using (var none = await client.GetAsync($"/v1/tenants/{tenantId}/sso"))
        {
            await TestApi.ExpectProblemAsync(none, HttpStatusCode.NotFound, "not_found");
        }
        // A pending domain (its TXT record not yet seen) is no better than none.
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE custom_domains SET status = 'pending' WHERE name = 'mine.example'");
            await scope.CommitAsync();
        }
        using (var pending = await SsoTestBed.PutSettingsAsync(client, tenantId, Settings(["mine.example"]), verify: false))
        {
            await TestApi.ExpectProblemAsync(pending, HttpStatusCode.Conflict, "domain_not_verified");
        }
        await TestApi.VerifiedDomainsAsync(tenantId, ["mine.example"]);
        using var accepted = await SsoTestBed.PutSettingsAsync(client, tenantId, Settings(["mine.example"]), verify: false);
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
    }

    [Test]
    public async Task A_domain_is_claimed_by_one_tenant_only_until_it_is_released()
    {
        var (owner, first, _) = await SsoTestBed.EnterpriseTenantAsync();
        var (other, second, _) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), first, Settings(["acme.example", "xn--bcher-kva.example"]));

        // The IDN form of a claimed domain is the same domain.
        using (var taken = await SsoTestBed.PutSettingsAsync(host.Client(other.Token), second, Settings(["bücher.example", "free.example"])))
        {
            var problem = await TestApi.ExpectProblemAsync(taken, HttpStatusCode.Conflict, "domain_claimed");
            Assert.That(problem["domains"]!.AsArray().Select(d => (string?)d), Is.EqualTo(new[] { "xn--bcher-kva.example" }));
        }
        // Nothing of the refused change was written: free.example is still free, and the second tenant has no settings.
        using (var none = await host.Client(other.Token).GetAsync($"/v1/tenants/{second}/sso"))
        {
            await TestApi.ExpectProblemAsync(none, HttpStatusCode.NotFound, "not_found");
        }
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), first, Settings(["free.example"]));
        using (var stillTaken = await SsoTestBed.PutSettingsAsync(host.Client(other.Token), second, Settings(["free.example"])))
        {
            await TestApi.ExpectProblemAsync(stillTaken, HttpStatusCode.Conflict, "domain_claimed");
        }
        // Dropped from the first tenant's list, acme.example is free again; deleting the settings releases the rest.
        await SsoTestBed.ConfigureAsync(host.Client(other.Token), second, Settings(["acme.example"]));
        using (var delete = await host.Client(owner.Token).DeleteAsync($"/v1/tenants/{first}/sso"))
        {
            await TestApi.ExpectAsync(delete, HttpStatusCode.NoContent);
        }
        await SsoTestBed.ConfigureAsync(host.Client(other.Token), second, Settings(["acme.example", "free.example"]));
        using var again = await host.Client(owner.Token).DeleteAsync($"/v1/tenants/{first}/sso");
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Other_tenants_get_404_keys_get_403_and_a_plan_without_sso_gets_feature_not_in_plan()
    {
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, Settings());
        var stranger = await TestApi.SignUpAsync();
        var url = $"/v1/tenants/{tenantId}/sso";
        using (var get = await host.Client(stranger.Token).GetAsync(url))
        {
            await TestApi.ExpectProblemAsync(get, HttpStatusCode.NotFound, "not_found");
        }
        using (var put = await SsoTestBed.PutSettingsAsync(host.Client(stranger.Token), tenantId, Settings(["other.example"])))
        {
            await TestApi.ExpectProblemAsync(put, HttpStatusCode.NotFound, "not_found");
        }
        using (var delete = await host.Client(stranger.Token).DeleteAsync(url))
        {
            await TestApi.ExpectProblemAsync(delete, HttpStatusCode.NotFound, "not_found");
        }
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using (var byKey = await host.Client(key.Secret).GetAsync("/v1/tenants/current/sso"))
        {
            await TestApi.ExpectProblemAsync(byKey, HttpStatusCode.Forbidden, "forbidden");
        }

        var starter = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Starter);
        using var refused = await SsoTestBed.PutSettingsAsync(host.Client(owner.Token), starter, Settings(["starter.example"]));
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        Assert.That((string?)problem["feature"], Is.EqualTo("sso"));
        Assert.That(problem["plans"]!.AsArray().Select(p => (string?)p), Does.Contain("enterprise"));
    }

    [Test]
    public async Task The_status_route_answers_not_configured_without_a_404_then_the_settings_and_keeps_the_same_gates()
    {
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        var client = host.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/sso/status";
        using (var none = await client.GetAsync(url))
        {
            await TestApi.ExpectAsync(none, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(none);
            Assert.That((bool)body["configured"]!, Is.False);
            Assert.That(body["settings"], Is.Null);
        }

        await SsoTestBed.ConfigureAsync(client, tenantId, Settings());
        using (var some = await client.GetAsync(url))
        {
            await TestApi.ExpectAsync(some, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(some);
            Assert.That((bool)body["configured"]!, Is.True);
            Assert.That((string?)body["settings"]!["issuer"], Is.EqualTo("https://idp.example.com"));
            Assert.That((string?)body["settings"]!["client_id"], Is.EqualTo("platform-client"));
            Assert.That(body.ToJsonString(), Does.Not.Contain("s3cret-value"));
        }
        // Below admin the settings are the redacted view, as GET …/sso shows them.
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        using (var redacted = await host.Client(viewer.Token).GetAsync(url))
        {
            await TestApi.ExpectAsync(redacted, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(redacted);
            Assert.That((bool)body["settings"]!["redacted"]!, Is.True);
            Assert.That(body["settings"]!["client_id"], Is.Null);
        }

        var stranger = await TestApi.SignUpAsync();
        using (var other = await host.Client(stranger.Token).GetAsync(url))
        {
            await TestApi.ExpectProblemAsync(other, HttpStatusCode.NotFound, "not_found");
        }
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using (var byKey = await host.Client(key.Secret).GetAsync("/v1/tenants/current/sso/status"))
        {
            await TestApi.ExpectProblemAsync(byKey, HttpStatusCode.Forbidden, "forbidden");
        }
        var starter = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Starter);
        using var gated = await client.GetAsync($"/v1/tenants/{starter}/sso/status");
        await TestApi.ExpectProblemAsync(gated, HttpStatusCode.Forbidden, "feature_not_in_plan");
    }
}
