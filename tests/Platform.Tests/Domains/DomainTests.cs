using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Domains;
using Platform.Engines.Email;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;
using Platform.Tests.Email;

namespace Platform.Tests.Domains;

/// <summary>Proves custom domains (ADR 0631): normalisation and refusals, uniqueness across tenants, the plan gate, other tenants' 404, verification
/// against a real dnsmasq on loopback, the ask endpoint, Host resolution of `current` routes, and the re-check job's grace period and notice.</summary>
public sealed class DomainTests : DatabaseTest
{
    private static WebApplicationFactory<Program> Host(DnsmasqServer dns) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Domains:NameServers", dns.NameServers));

    private static async Task<(TestUser Owner, Guid TenantId)> ProfessionalTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        return (owner, await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional));
    }

    private static async Task<JsonNode> AddAsync(HttpClient client, Guid tenantId, string name)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }

    private static async Task<JsonNode> VerifyAsync(HttpClient client, Guid tenantId, string domainId)
    {
        using var response = await client.PostAsync($"/v1/tenants/{tenantId}/domains/{domainId}/verify", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return await TestApi.ReadAsync(response);
    }

    private static async Task<HttpStatusCode> AskAsync(HttpClient client, string domain)
    {
        using var response = await client.GetAsync($"/v1/domains/allowed?domain={Uri.EscapeDataString(domain)}");
        return response.StatusCode;
    }

    [Test]
    public async Task Names_are_normalised_unique_across_tenants_and_bad_ones_get_422_naming_the_field()
    {
        var (owner, tenantId) = await ProfessionalTenantAsync();
        var client = TestApi.Client(owner.Token);
        var added = await AddAsync(client, tenantId, "  Bücher.Example.TEST. ");
        Assert.Multiple(() =>
        {
            Assert.That((string?)added["name"], Is.EqualTo("xn--bcher-kva.example.test"));
            Assert.That((string?)added["status"], Is.EqualTo("pending"));
            Assert.That((string?)added["ssl_status"], Is.EqualTo("pending"));
            Assert.That((string?)added["verification"]!["type"], Is.EqualTo("TXT"));
            Assert.That((string?)added["verification"]!["name"], Is.EqualTo("_platform-challenge.xn--bcher-kva.example.test"));
            Assert.That((string?)added["verification"]!["value"], Does.Match("^platform-verification=[0-9a-f]{32}$"));
        });

        using (var again = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = "xn--bcher-kva.example.test" }))
        {
            await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "domain_taken");
        }
        var (rival, rivalTenant) = await ProfessionalTenantAsync();
        using (var taken = await TestApi.Client(rival.Token).PostAsJsonAsync($"/v1/tenants/{rivalTenant}/domains", new { name = "BÜCHER.example.test" }))
        {
            await TestApi.ExpectProblemAsync(taken, HttpStatusCode.Conflict, "domain_taken");
        }

        foreach (var bad in new[] { "", "*.example.test", "203.0.113.7", "[2001:db8::1]", "localhost", "a..example.test", "-bad.example.test",
                     "under_score.example.test", new string('a', 64) + ".example.test", "example.123", "shop.platform.localhost", "nul\u0000.example.test" })
        {
            using var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = bad });
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]?["name"], Is.Not.Null, $"{bad}: {problem.ToJsonString()}");
        }

        // Other tenants' ids: 404 on every route, for members of another tenant too.
        var id = (string)added["id"]!;
        var rivalClient = TestApi.Client(rival.Token);
        foreach (var (method, url) in new[]
                 {
                     (HttpMethod.Get, $"/v1/tenants/{tenantId}/domains"), (HttpMethod.Get, $"/v1/tenants/{tenantId}/domains/{id}"),
                     (HttpMethod.Delete, $"/v1/tenants/{tenantId}/domains/{id}"), (HttpMethod.Post, $"/v1/tenants/{tenantId}/domains/{id}/verify"),
                     (HttpMethod.Get, $"/v1/tenants/{rivalTenant}/domains/{id}"), (HttpMethod.Delete, $"/v1/tenants/{rivalTenant}/domains/{id}"),
                     (HttpMethod.Get, $"/v1/tenants/{tenantId}/domains/not-a-uuid"),
                 })
        {
            using var response = await (url.Contains(tenantId.ToString(), StringComparison.Ordinal) && !url.EndsWith("not-a-uuid", StringComparison.Ordinal) ? rivalClient : client)
                .SendAsync(new HttpRequestMessage(method, url));
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }

        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        using (var read = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/domains"))
        {
            await TestApi.ExpectAsync(read, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(read))["data"]!.AsArray(), Has.Count.EqualTo(1));
        }
        using (var denied = await TestApi.Client(viewer.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = "other.example.test" }))
        {
            await TestApi.ExpectProblemAsync(denied, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var deleted = await client.DeleteAsync($"/v1/tenants/{tenantId}/domains/{id}"))
        {
            await TestApi.ExpectAsync(deleted, HttpStatusCode.NoContent);
        }
        // The name is free again, for any tenant.
        await AddAsync(rivalClient, rivalTenant, "xn--bcher-kva.example.test");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action IN ('domain.added', 'domain.removed')", tenantId), Is.EqualTo(2));
    }

    [Test]
    public async Task A_plan_without_custom_domains_gets_403_feature_not_in_plan()
    {
        var owner = await TestApi.SignUpAsync();
        var free = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        using var refused = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{free}/domains", new { name = "free.example.test" });
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        Assert.That((string?)problem["feature"], Is.EqualTo("custom_domain"));
    }

    [Test]
    public async Task A_domain_verified_through_dnsmasq_is_allowed_and_reaches_its_tenant_until_a_downgrade()
    {
        await using var dns = await DnsmasqServer.StartAsync();
        using var host = Host(dns);
        var (owner, tenantId) = await ProfessionalTenantAsync();
        var client = host.Client(owner.Token);
        var added = await AddAsync(client, tenantId, "shop.example.test");
        var id = (string)added["id"]!;
        var token = (string)added["verification"]!["value"]!;
        var anonymous = host.CreateClient();

        // Nothing published yet: the name servers answer NXDOMAIN, the verification fails, and the name is not allowed.
        var failed = await VerifyAsync(client, tenantId, id);
        Assert.Multiple(async () =>
        {
            Assert.That((string?)failed["status"], Is.EqualTo("failed"));
            Assert.That((string?)failed["last_error"], Does.Contain("_platform-challenge.shop.example.test"));
            Assert.That(await AskAsync(anonymous, "shop.example.test"), Is.EqualTo(HttpStatusCode.NotFound));
        });

        // A wrong token is not enough.
        await dns.ServeAsync(("_platform-challenge.shop.example.test", "platform-verification=00000000000000000000000000000000"));
        Assert.That((string?)(await VerifyAsync(client, tenantId, id))["status"], Is.EqualTo("failed"));

        await dns.ServeAsync(("_platform-challenge.shop.example.test", token));
        var verified = await VerifyAsync(client, tenantId, id);
        Assert.Multiple(() =>
        {
            Assert.That((string?)verified["status"], Is.EqualTo("verified"));
            Assert.That(verified["verified_at"], Is.Not.Null);
            Assert.That(verified["last_error"], Is.Null);
        });
        Assert.Multiple(async () =>
        {
            Assert.That(await AskAsync(anonymous, "shop.example.test"), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await AskAsync(anonymous, "SHOP.example.test."), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await AskAsync(anonymous, "other.example.test"), Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await AskAsync(anonymous, ""), Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'domain.verified'", tenantId), Is.EqualTo(1));
        });

        // The verified name resolves `current` routes and the public branding, like {slug}.{BaseHost}.
        using (var current = new HttpRequestMessage(HttpMethod.Get, "http://shop.example.test/v1/tenants/current/features"))
        {
            using var response = await client.SendAsync(current);
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(response))["tenant_id"], Is.EqualTo(tenantId.ToString()));
        }
        using (var branding = await anonymous.GetAsync("/v1/branding?host=shop.example.test"))
        {
            await TestApi.ExpectAsync(branding, HttpStatusCode.OK);
        }
        var stranger = await TestApi.SignUpAsync();
        using (var foreign = new HttpRequestMessage(HttpMethod.Get, "http://shop.example.test/v1/tenants/current/features"))
        {
            using var response = await host.Client(stranger.Token).SendAsync(foreign);
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }

        // A downgrade keeps the domain but it stops resolving and stops being allowed, on the next request.
        using (var scope = host.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Starter));
        }
        Assert.That(await AskAsync(anonymous, "shop.example.test"), Is.EqualTo(HttpStatusCode.NotFound));
        using (var current = new HttpRequestMessage(HttpMethod.Get, "http://shop.example.test/v1/tenants/current/features"))
        {
            using var response = await client.SendAsync(current);
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM custom_domains", tenantId), Is.EqualTo("verified"), "the data stays");
    }

    [Test]
    public async Task The_recheck_job_keeps_a_domain_through_the_grace_period_then_sends_it_back_to_pending_and_tells_the_admins()
    {
        await using var dns = await DnsmasqServer.StartAsync();
        await using var smtp = new SmtpTestServer();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var engines = TestEngines.Build(smtp.EmailSettings(("Domains:NameServers", dns.NameServers), ("Domains:GraceHours", "24"),
            ("Domains:RecheckIntervalSeconds", "3600")), clock);
        var mediator = engines.GetRequiredService<IMediator>();
        var (owner, tenantId) = await ProfessionalTenantAsync();
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var ownerCaller = Caller.User(owner.Id);
        var domain = await mediator.Send(new AddDomain(ownerCaller, tenantId, "api.example.test"));
        await dns.ServeAsync((domain.ChallengeName, domain.VerificationToken));
        Assert.That((await mediator.Send(new VerifyDomain(ownerCaller, tenantId, domain.Id))).Status, Is.EqualTo(DomainStatus.Verified));

        // Not due yet: nothing is checked.
        Assert.That(await mediator.Send(new RecheckDomains()), Is.EqualTo(new RecheckResult(0, 0)));

        // The record disappears: the first check starts the grace period, the domain stays verified.
        await dns.ServeAsync();
        clock.Advance(TimeSpan.FromHours(2));
        Assert.That(await mediator.Send(new RecheckDomains()), Is.EqualTo(new RecheckResult(1, 0)));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status || ':' || (missing_since IS NOT NULL)::text FROM custom_domains", tenantId),
            Is.EqualTo("verified:true"));

        // Still missing after the grace period: back to pending, audited, and every owner and admin is told.
        await QueuedAccountEmails.DropAsync();
        clock.Advance(TimeSpan.FromHours(25));
        Assert.That(await mediator.Send(new RecheckDomains()), Is.EqualTo(new RecheckResult(1, 1)));
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM custom_domains", tenantId), Is.EqualTo("pending"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'domain.verification_lost'", tenantId), Is.EqualTo(1));
            Assert.That(await mediator.Send(new ResolveDomainHost("api.example.test")), Is.Null);
        });
        var sent = await mediator.Send(new DispatchEmails());
        Assert.That(sent.Sent, Is.EqualTo(2));
        Assert.That(smtp.Messages.Select(m => m.To.Mailboxes.Single().Address), Is.EquivalentTo(new[] { owner.Email, admin.Email }));
        Assert.That(smtp.Messages[0].Subject, Does.Contain("api.example.test is no longer verified"));
        Assert.That(smtp.Messages[0].TextBody, Does.Contain("_platform-challenge.api.example.test"));

        // A pending domain is not re-checked by the job; publishing the record again and verifying restores it.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.That(await mediator.Send(new RecheckDomains()), Is.EqualTo(new RecheckResult(0, 0)));
        await dns.ServeAsync((domain.ChallengeName, domain.VerificationToken));
        Assert.That((await mediator.Send(new VerifyDomain(ownerCaller, tenantId, domain.Id))).Status, Is.EqualTo(DomainStatus.Verified));
    }
}
