using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Tests.Audit;

/// <summary>Proves that an audit row records the request it came from: client IP, user agent, request id and the acting user.</summary>
public sealed class AuditRequestContextTests : DatabaseTest
{
    [Test]
    public async Task Audit_rows_carry_the_client_ip_user_agent_and_request_id()
    {
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
            b.ConfigureTestServices(s => s.AddSingleton<IStartupFilter>(new FixedClientIp(IPAddress.Parse("203.0.113.44")))));
        var client = host.CreateClient();
        client.DefaultRequestHeaders.UserAgent.ParseAdd("ops-audit-test/1.0");
        var owner = await TestApi.SignUpAsync();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        using var created = await client.PostAsJsonAsync("/v1/tenants", new { name = "Audited", slug = "aud-" + Guid.NewGuid().ToString("N")[..10] });
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var tenantId = (string)(await TestApi.ReadAsync(created))["id"]!;
        using var invited = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "someone@example.test", role = "member" });
        await TestApi.ExpectAsync(invited, HttpStatusCode.Created);

        using var log = await client.GetAsync($"/v1/tenants/{tenantId}/audit-log?action=invitation.created");
        var row = (await TestApi.ReadAsync(log))["data"]![0]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)row["ip"], Is.EqualTo("203.0.113.44"));
            Assert.That((string?)row["user_agent"], Is.EqualTo("ops-audit-test/1.0"));
            Assert.That((string?)row["request_id"], Is.Not.Empty);
            Assert.That((string?)row["actor_type"], Is.EqualTo("user"));
            Assert.That((string?)row["actor_id"], Is.EqualTo(owner.Id.ToString()));
            Assert.That((string?)row["occurred_at"] ?? (string?)row["created_at"], Is.Not.Empty);
        });
    }
}
