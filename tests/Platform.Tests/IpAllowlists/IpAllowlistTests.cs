using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;
using Platform.Tests.Operators;

namespace Platform.Tests.IpAllowlists;

/// <summary>Proves the tenant IP allowlist (ADR 0551): CIDRs v4 and v6 enforced on every tenant route for users and keys, X-Forwarded-For only from a
/// known proxy, the lockout refusal, the operators' rescue, and that other tenants are unaffected.</summary>
public sealed class IpAllowlistTests : DatabaseTest
{
    private const string RemoteHeader = "X-Test-Remote-Address";
    private const string Office = "203.0.113.5";
    private const string Elsewhere = "198.51.100.7";

    /// <summary>Sets each request's connection address from a test header, as different clients would have (the in-process server has none).</summary>
    private sealed class HeaderRemoteAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteHeader, out var value) && IPAddress.TryParse(value.ToString(), out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }
                return nextMiddleware();
            });
            next(app);
        };
    }

    private static WebApplicationFactory<Program> Host(string? knownProxies = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            if (knownProxies is not null)
            {
                b.UseSetting("Network:KnownProxies", knownProxies);
            }
            b.ConfigureTestServices(s => s.AddSingleton<IStartupFilter>(new HeaderRemoteAddress()));
        });

    private static HttpRequestMessage From(string address, HttpMethod method, string url, object? body = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add(RemoteHeader, address);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: TestApi.Json);
        }
        return request;
    }

    private static async Task<HttpStatusCode> StatusFromAsync(HttpClient client, string address, string url, string? forwardedFor = null)
    {
        using var response = await client.SendAsync(From(address, HttpMethod.Get, url, forwardedFor: forwardedFor));
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            Assert.That((string?)(await TestApi.ReadAsync(response))["code"], Is.EqualTo("ip_not_allowed"));
        }
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string address, Guid tenantId, object body) =>
        await client.SendAsync(From(address, HttpMethod.Put, $"/v1/tenants/{tenantId}/ip-allowlist", body));

    private static async Task<(TestUser Owner, Guid TenantId)> ProfessionalTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        return (owner, await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional));
    }

    [Test]
    public async Task Only_addresses_in_the_v4_and_v6_cidrs_reach_the_tenant_for_users_and_keys_and_other_tenants_are_unaffected()
    {
        var (owner, tenantId) = await ProfessionalTenantAsync();
        var otherTenant = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        using var host = Host();
        var client = host.Client(owner.Token);
        var keyClient = host.Client(key.Secret);

        using (var put = await PutAsync(client, Office, tenantId, new
        {
            entries = new object[] { new { cidr = "203.0.113.0/24", description = "office" }, new { cidr = "2001:db8::/32", description = "vpn" } },
        }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(put))["entries"]!.AsArray(), Has.Count.EqualTo(2));
        }
        var tenantUrl = $"/v1/tenants/{tenantId}";
        Assert.Multiple(async () =>
        {
            Assert.That(await StatusFromAsync(client, "203.0.113.250", tenantUrl), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(client, Elsewhere, tenantUrl), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await StatusFromAsync(client, "2001:db8:1::9", tenantUrl), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(client, "2001:db9::1", tenantUrl), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await StatusFromAsync(client, "::ffff:203.0.113.9", tenantUrl), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(keyClient, Office, "/v1/tenants/current/features"), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(keyClient, Elsewhere, "/v1/tenants/current/features"), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await StatusFromAsync(client, Elsewhere, $"/v1/tenants/{otherTenant}"), Is.EqualTo(HttpStatusCode.OK));
        });
        var stranger = await TestApi.SignUpAsync();
        Assert.That(await StatusFromAsync(host.Client(stranger.Token), Elsewhere, tenantUrl), Is.EqualTo(HttpStatusCode.NotFound));

        // A downgrade keeps the list but stops enforcing it, on the next request.
        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Starter));
        }
        Assert.That(await StatusFromAsync(client, Elsewhere, tenantUrl), Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task X_forwarded_for_counts_only_from_a_known_proxy()
    {
        var (owner, tenantId) = await ProfessionalTenantAsync();
        using var host = Host(knownProxies: "10.9.9.9, fd00::/8");
        var client = host.Client(owner.Token);
        using (var put = await PutAsync(client, Office, tenantId, new { entries = new[] { new { cidr = Office } } }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        var url = $"/v1/tenants/{tenantId}";
        Assert.Multiple(async () =>
        {
            Assert.That(await StatusFromAsync(client, "10.9.9.9", url, forwardedFor: Office), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(client, "fd00::1", url, forwardedFor: Office), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusFromAsync(client, "10.8.8.8", url, forwardedFor: Office), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await StatusFromAsync(client, "10.9.9.9", url, forwardedFor: Elsewhere), Is.EqualTo(HttpStatusCode.Forbidden));
        });
        // Without known proxies the header is ignored.
        using var plain = Host();
        Assert.That(await StatusFromAsync(plain.Client(owner.Token), "10.9.9.9", url, forwardedFor: Office), Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task A_list_that_locks_the_caller_out_needs_confirmation_and_an_operator_can_clear_it_reversibly()
    {
        var (owner, tenantId) = await ProfessionalTenantAsync();
        using var host = Host();
        var client = host.Client(owner.Token);
        var body = new { entries = new[] { new { cidr = "203.0.113.0/24" } } };
        using (var refused = await PutAsync(client, Elsewhere, tenantId, body))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "would_lock_out");
            Assert.That((string?)problem["client_address"], Is.EqualTo(Elsewhere));
        }
        var url = $"/v1/tenants/{tenantId}";
        Assert.That(await StatusFromAsync(client, Elsewhere, url), Is.EqualTo(HttpStatusCode.OK), "a refused PUT saved nothing");
        using (var confirmed = await PutAsync(client, Elsewhere, tenantId, new { entries = body.entries, confirm_lockout = true }))
        {
            await TestApi.ExpectAsync(confirmed, HttpStatusCode.OK);
        }
        Assert.That(await StatusFromAsync(client, Elsewhere, url), Is.EqualTo(HttpStatusCode.Forbidden));

        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        using var clear = await support.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/ip-allowlist/clear", new { reason_code = "locked_out" });
        await TestApi.ExpectAsync(clear, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(clear);
        Assert.That(await StatusFromAsync(client, Elsewhere, url), Is.EqualTo(HttpStatusCode.OK));

        var (_, super) = await OperatorTestSupport.SignedInAsync("super_admin");
        using (var reverse = await super.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "mistake" }))
        {
            await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        }
        Assert.That(await StatusFromAsync(client, Elsewhere, url), Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId),
            Is.EqualTo(new[] { "ip_allowlist.cleared_by_operator", "ip_allowlist.restored_by_operator" }));
    }

    [Test]
    public async Task Bad_cidrs_too_many_entries_and_a_plan_without_the_feature_are_refused()
    {
        var (owner, tenantId) = await ProfessionalTenantAsync();
        using var host = Host();
        var client = host.Client(owner.Token);
        using (var bad = await PutAsync(client, Office, tenantId, new { entries = new[] { new { cidr = Office }, new { cidr = "203.0.113.0/33" } } }))
        {
            var problem = await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            var fields = problem["errors"]!.AsObject().Select(e => e.Key).ToList();
            Assert.That(fields, Has.Some.Contains("[1]").And.Some.Contains("idr"), string.Join(", ", fields));
        }
        using (var tooMany = await PutAsync(client, Office, tenantId,
            new { entries = Enumerable.Range(0, 101).Select(i => new { cidr = $"10.0.{i}.0/24" }).ToArray(), confirm_lockout = true }))
        {
            var problem = await TestApi.ExpectProblemAsync(tooMany, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(e => e.Key), Has.Some.EqualTo("entries").IgnoreCase);
        }
        using (var get = await client.SendAsync(From(Office, HttpMethod.Get, $"/v1/tenants/{tenantId}/ip-allowlist")))
        {
            await TestApi.ExpectAsync(get, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(get))["entries"]!.AsArray(), Is.Empty, "refused PUTs saved nothing");
        }
        var freeTenant = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        using var free = await PutAsync(client, Office, freeTenant, new { entries = new[] { new { cidr = Office } } });
        var refusal = await TestApi.ExpectProblemAsync(free, HttpStatusCode.Forbidden, "feature_not_in_plan");
        Assert.That((string?)refusal["feature"], Is.EqualTo("ip_allowlist"));
    }
}
