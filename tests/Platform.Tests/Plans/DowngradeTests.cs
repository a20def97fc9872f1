using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Tests.Sso;

namespace Platform.Tests.Plans;

/// <summary>Proves "a downgrade keeps the data but stops the feature and says so in the response of the plan change" (issue 12): the plan-change
/// answers list features_lost; after a cancellation to free, SSO enforcement no longer blocks the password, the custom domain neither resolves its
/// tenant nor passes the ask endpoint, branding is not served; subscribing again restores all three from the kept rows.</summary>
public sealed class DowngradeTests : DatabaseTest
{
    private const string Password = "correct horse battery";

    private static async Task<JsonNode> ExpectJsonAsync(HttpResponseMessage response)
    {
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return await TestApi.ReadAsync(response);
    }

    private static List<string> LostOf(JsonNode body) => body["features_lost"]!.AsArray().Select(f => (string)f!).ToList();

    private static async Task<HttpStatusCode> LogInAsync(string email)
    {
        using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email, password = Password });
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> AskAsync(string domain)
    {
        using var response = await TestApi.Client().GetAsync($"/v1/domains/allowed?domain={Uri.EscapeDataString(domain)}");
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> CurrentAsync(HttpClient client, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}/v1/tenants/current/features");
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string?> LogoAsync(string host)
    {
        using var response = await TestApi.Client().GetAsync($"/v1/branding?host={host}");
        return response.StatusCode == HttpStatusCode.NotFound ? "404" : (string?)(await ExpectJsonAsync(response))["logo_url"];
    }

    [Test]
    public async Task A_cancellation_lists_the_lost_features_stops_sso_domains_and_branding_and_subscribing_again_restores_them()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        var client = TestApi.Client(owner.Token);
        var domain = $"dg-{Guid.NewGuid():N}"[..15] + ".example.test";

        using (var subscribed = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = PlanCatalog.Enterprise, billing_cycle = "monthly" }))
        {
            Assert.That(LostOf(await ExpectJsonAsync(subscribed)), Is.Empty, "a trial becoming paid loses nothing");
        }

        // The tenant's custom domain (claimed through the API, verified as the DNS check would), SSO enforced for it, and branding.
        using (var added = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = domain }))
        {
            await TestApi.ExpectAsync(added, HttpStatusCode.Created);
        }
        await using (var db = await Testing.TenantScope.OwnerAsync(tenantId))
        {
            await db.ExecuteAsync("UPDATE custom_domains SET status = 'verified', verified_at = now() WHERE tenant_id = @t", ("t", tenantId));
            await db.CommitAsync();
        }
        await SsoTestBed.ConfigureAsync(client, tenantId, new
        {
            issuer = "https://idp.downgrade.example", client_id = "c", client_secret = "s", domains = new[] { domain }, enforce = true,
        });
        using (var branded = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/branding", new { logo_url = "https://cdn.example.test/logo.png", primary_color = "#112233" }))
        {
            await TestApi.ExpectAsync(branded, HttpStatusCode.OK);
        }
        var memberEmail = $"m-{Guid.NewGuid():N}@{domain}";
        using (var signup = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email = memberEmail, password = Password, name = "Member" }))
        {
            await TestApi.ExpectAsync(signup, HttpStatusCode.Created);
            await TestApi.AddMemberAsync(tenantId, Guid.Parse((string)(await TestApi.ReadAsync(signup))["user"]!["id"]!), "member");
        }

        async Task ExpectFeaturesOnAsync(string when)
        {
            Assert.Multiple(async () =>
            {
                Assert.That(await LogInAsync(memberEmail), Is.EqualTo(HttpStatusCode.Forbidden), when + ": SSO enforcement refuses the password");
                Assert.That(await AskAsync(domain), Is.EqualTo(HttpStatusCode.OK), when + ": the ask endpoint allows the domain");
                Assert.That(await CurrentAsync(client, domain), Is.EqualTo(HttpStatusCode.OK), when + ": the domain resolves its tenant");
                Assert.That(await LogoAsync(domain), Is.EqualTo("https://cdn.example.test/logo.png"), when + ": branding is served");
                Assert.That(await LogoAsync(slug + ".platform.localhost"), Is.EqualTo("https://cdn.example.test/logo.png"), when + ": also by the slug host");
            });
        }
        await ExpectFeaturesOnAsync("enterprise");

        // A downgrade waits for the period end: nothing is lost yet, and the answer says so.
        using (var downgrade = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = PlanCatalog.Starter, billing_cycle = "monthly" }))
        {
            var body = await ExpectJsonAsync(downgrade);
            Assert.That((string?)body["pending_plan"], Is.EqualTo(PlanCatalog.Starter));
            Assert.That(LostOf(body), Is.Empty);
        }
        await ExpectFeaturesOnAsync("pending downgrade");

        // Cancelling now moves the tenant to free at once: the answer lists every feature enterprise had and free has not.
        using (var canceled = await client.DeleteAsync($"/v1/tenants/{tenantId}/subscription"))
        {
            var expected = PlanCatalog.Get(PlanCatalog.Enterprise).Features.Except(PlanCatalog.Get(PlanCatalog.Free).Features).Order(StringComparer.Ordinal).ToList();
            Assert.That(LostOf(await ExpectJsonAsync(canceled)), Is.EqualTo(expected).And.Contains(Features.Sso).And.Contains(Features.CustomDomain).And.Contains(Features.Branding));
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await LogInAsync(memberEmail), Is.EqualTo(HttpStatusCode.OK), "enforcement is lifted");
            Assert.That(await AskAsync(domain), Is.EqualTo(HttpStatusCode.NotFound), "the proxy may no longer get a certificate");
            Assert.That(await CurrentAsync(client, domain), Is.EqualTo(HttpStatusCode.NotFound), "the domain no longer resolves");
            Assert.That(await LogoAsync(domain), Is.EqualTo("404"), "the custom domain is an unknown host");
            Assert.That(await LogoAsync(slug + ".platform.localhost"), Is.Null, "the slug host answers without branding");
        });
        await using (var db = await Testing.TenantScope.OwnerAsync(tenantId))
        {
            Assert.That(await db.ScalarAsync("SELECT enforce FROM tenant_sso_settings WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo(true), "SSO settings stay");
            Assert.That(await db.ScalarAsync("SELECT status FROM custom_domains WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo("verified"), "the domain stays");
            Assert.That(await db.ScalarAsync("SELECT logo_url FROM tenant_branding WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo("https://cdn.example.test/logo.png"));
        }

        // Subscribing again restores everything from the kept rows.
        using (var again = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = PlanCatalog.Enterprise, billing_cycle = "monthly" }))
        {
            Assert.That(LostOf(await ExpectJsonAsync(again)), Is.Empty);
        }
        await ExpectFeaturesOnAsync("re-subscribed");

        // The engine's own plan change answers the same list.
        using var scope = TestApi.Services.CreateScope();
        var change = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Professional));
        Assert.That(change.FeaturesLost, Is.EqualTo(new[] { Features.PrioritySupport, Features.Sso }));
        Assert.That(change.Tenant.Plan, Is.EqualTo(PlanCatalog.Professional));
        Assert.That(await LogInAsync(memberEmail), Is.EqualTo(HttpStatusCode.OK));
        var restored = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Enterprise));
        Assert.That(restored.FeaturesLost, Is.Empty);
        Assert.That(await LogInAsync(memberEmail), Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
