using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Platform.Models.Plans;

namespace Platform.Tests.Domains;

/// <summary>Proves on-demand TLS for custom domains (ADR 0631) with Debian's caddy in front of the real API on loopback: caddy asks
/// /v1/domains/allowed before it issues a certificate from its internal CA, so a verified domain gets one and reaches its tenant's `current`
/// routes, while an unverified or unknown name gets neither (the TLS handshake fails).</summary>
public sealed class CaddyOnDemandTlsTests : DatabaseTest
{
    [Test]
    public async Task A_verified_domain_gets_a_certificate_and_reaches_its_tenant_and_an_unverified_one_gets_neither()
    {
        await using var dns = await DnsmasqServer.StartAsync();
        await using var api = await CaddyProcess.StartApiAsync(dns.NameServers);
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional);
        using var client = new HttpClient { BaseAddress = new Uri(api.Urls.First()) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        var verified = await AddAsync(client, tenantId, "shop.example.test");
        await AddAsync(client, tenantId, "unverified.example.test");
        await dns.ServeAsync(((string)verified["verification"]!["name"]!, (string)verified["verification"]!["value"]!));
        using (var verify = await client.PostAsync($"/v1/tenants/{tenantId}/domains/{(string)verified["id"]!}/verify", null))
        {
            await TestApi.ExpectAsync(verify, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(verify))["status"], Is.EqualTo("verified"));
        }

        await using var caddy = await CaddyProcess.StartAsync(new Uri(api.Urls.First()).Port);
        X509Certificate2? served = null;
        using var tls = caddy.Client(certificate => served = certificate);
        tls.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        using (var response = await tls.GetAsync($"https://shop.example.test:{caddy.HttpsPort}/v1/tenants/current/features"))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(response))["tenant_id"], Is.EqualTo(tenantId.ToString()), caddy.Log);
        }
        Assert.That(served, Is.Not.Null);
        Assert.That(served!.GetNameInfo(X509NameType.DnsName, false), Is.EqualTo("shop.example.test"));

        foreach (var name in new[] { "unverified.example.test", "nobody.example.test" })
        {
            var refused = Assert.ThrowsAsync<HttpRequestException>(async () => await tls.GetAsync($"https://{name}:{caddy.HttpsPort}/v1/tenants/current/features"));
            Assert.That(refused!.InnerException, Is.InstanceOf<System.Security.Authentication.AuthenticationException>().Or.InstanceOf<IOException>(),
                $"{name}: the handshake must fail, not an HTTP answer. {caddy.Log}");
        }
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> AddAsync(HttpClient client, Guid tenantId, string name)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }
}
