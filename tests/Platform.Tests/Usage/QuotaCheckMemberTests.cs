using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Usage;

/// <summary>Proves that a member's plain quota check is answered from the figures held in memory, as an API key's (ADR 0795): another instance's write is
/// not read within the time to live, while this instance's own ingestion, reservation and membership change are seen by the very next check; a non-member
/// gets 404 and a removed member 404 at once.</summary>
public sealed class QuotaCheckMemberTests : DatabaseTest
{
    private static async Task<(decimal Used, decimal Reserved)> FiguresAsync(HttpClient client, Guid tenantId)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 0 });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        return ((decimal)body["used"]!, (decimal)body["reserved"]!);
    }

    private static Task<HttpResponseMessage> IngestAsync(HttpClient client, Guid tenantId, decimal amount, string key) =>
        client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount, idempotency_key = key } });

    [Test]
    public async Task A_members_plain_check_is_served_from_held_figures_that_count_its_instances_own_writes_at_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        await TestApi.ExpectAsync(await TestApi.Client(owner.Token).PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }),
            HttpStatusCode.OK);
        var member = await TestApi.MemberAsync(tenantId, "member");
        var stranger = await TestApi.SignUpAsync();
        // An instance whose figures live a minute: what it answers without having seen a write is what it holds, not what the database has.
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Usage:SummaryCacheMilliseconds", "60000"));
        var ownerHere = host.Client(owner.Token);
        var memberHere = host.Client(member.Token);

        Assert.That(await FiguresAsync(memberHere, tenantId), Is.EqualTo((0m, 0m)));
        // Written through another instance: not seen here within the time to live, so the check read no figures from the database.
        await TestApi.ExpectAsync(await IngestAsync(TestApi.Client(owner.Token), tenantId, 1.5m, "elsewhere"), HttpStatusCode.OK);
        Assert.That(await FiguresAsync(memberHere, tenantId), Is.EqualTo((0m, 0m)));
        Assert.That(await FiguresAsync(ownerHere, tenantId), Is.EqualTo((0m, 0m)));

        // Written through this instance (ingestion, then a reservation): the very next check counts it (and reads the other instance's too).
        await TestApi.ExpectAsync(await IngestAsync(memberHere, tenantId, 0.25m, "here"), HttpStatusCode.OK);
        Assert.That(await FiguresAsync(memberHere, tenantId), Is.EqualTo((1.75m, 0m)));
        using (var hold = await memberHere.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 2m, reserve = true }))
        {
            await TestApi.ExpectAsync(hold, HttpStatusCode.OK);
        }
        Assert.That(await FiguresAsync(memberHere, tenantId), Is.EqualTo((1.75m, 2m)));
        using (var refused = await memberHere.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 1.5m }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((decimal?)problem["remaining"], Is.EqualTo(1.25m));
        }

        // Membership is still checked: a stranger gets 404, and a member removed through this instance 404 on the next check.
        using (var strangers = await host.Client(stranger.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 0 }))
        {
            await TestApi.ExpectProblemAsync(strangers, HttpStatusCode.NotFound, "not_found");
        }
        using (var removed = await ownerHere.DeleteAsync($"/v1/tenants/{tenantId}/members/{member.Id}"))
        {
            Assert.That(removed.IsSuccessStatusCode, Is.True, await removed.Content.ReadAsStringAsync());
        }
        using (var gone = await memberHere.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 0 }))
        {
            await TestApi.ExpectProblemAsync(gone, HttpStatusCode.NotFound, "not_found");
        }
        Assert.That(await FiguresAsync(ownerHere, tenantId), Is.EqualTo((1.75m, 2m)));
    }
}
