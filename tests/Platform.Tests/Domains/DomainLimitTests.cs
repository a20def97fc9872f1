using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Domains;

/// <summary>Proves the per-tenant custom domain cap (Domains:MaxPerTenant, ADR 0631) under concurrency: many parallel creations admit exactly the cap,
/// the others get 409 domain_limit_reached, and another tenant's cap is its own.</summary>
public sealed class DomainLimitTests : DatabaseTest
{
    [Test]
    public async Task Parallel_creations_admit_exactly_the_cap_and_refuse_the_rest_with_409()
    {
        const int cap = 4, attempts = 24;
        using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Domains:MaxPerTenant", cap.ToString()));
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional);
        var client = host.Client(owner.Token);
        var run = Guid.NewGuid().ToString("N")[..8];

        var statuses = await Task.WhenAll(Enumerable.Range(0, attempts).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = $"d{i}-{run}.example.test" });
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                await TestApi.ExpectProblemAsync(response, HttpStatusCode.Conflict, "domain_limit_reached");
            }
            return response.StatusCode;
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(cap));
            Assert.That(statuses.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(attempts - cap));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM custom_domains", tenantId), Is.EqualTo(cap));
        });

        var other = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Professional);
        using var own = await client.PostAsJsonAsync($"/v1/tenants/{other}/domains", new { name = $"other-{run}.example.test" });
        await TestApi.ExpectAsync(own, HttpStatusCode.Created);
    }
}
