using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.Runs;

public sealed class WorkersApiTests : DatabaseTest
{
    [Test]
    public async Task The_registry_lists_the_seeded_workers_with_pricing_in_cents()
    {
        using var response = await TestApi.Client().GetAsync("/v1/workers");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var workers = (await TestApi.ReadAsync(response))["data"]!.AsArray();
        Assert.That(workers.Select(w => (string?)w!["id"]), Is.EqualTo(new[] { "classifier", "extractor", "researcher", "summarizer" }));
        var summarizer = workers.Single(w => (string?)w!["id"] == "summarizer")!;
        Assert.Multiple(() =>
        {
            Assert.That((long?)summarizer["base_cents_per_run"], Is.EqualTo(1));
            Assert.That((long?)summarizer["cents_per_1k_tokens"], Is.EqualTo(2));
            Assert.That((bool?)summarizer["uses_credits"], Is.False);
            Assert.That((string?)summarizer["currency"], Is.EqualTo("usd"));
        });
    }

    [Test]
    public async Task Admins_set_a_worker_config_that_viewers_read_and_members_cannot_change()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        var member = await TestApi.MemberAsync(tenantId, "member");
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var url = $"/v1/tenants/{tenantId}/workers/researcher/config";

        using (var fresh = await TestApi.Client(viewer.Token).GetAsync(url))
        {
            await TestApi.ExpectAsync(fresh, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(fresh);
            Assert.That((bool?)body["enabled"], Is.True);
            Assert.That(body["max_runs_per_day"], Is.Null);
        }
        using (var put = await TestApi.Client(admin.Token).PutAsJsonAsync(url, new { enabled = false, config = new { model = "large", depth = 3 }, max_runs_per_day = 10, max_tokens_per_run = -1 }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        using (var read = await TestApi.Client(viewer.Token).GetAsync(url))
        {
            var body = await TestApi.ReadAsync(read);
            Assert.Multiple(() =>
            {
                Assert.That((bool?)body["enabled"], Is.False);
                Assert.That((string?)body["config"]!["model"], Is.EqualTo("large"));
                Assert.That((int?)body["max_runs_per_day"], Is.EqualTo(10));
                Assert.That(body["max_tokens_per_run"], Is.Null);
            });
        }
        using (var denied = await TestApi.Client(member.Token).PutAsJsonAsync(url, new { enabled = true }))
        {
            await TestApi.ExpectProblemAsync(denied, HttpStatusCode.Forbidden, "forbidden");
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND action = 'worker_config.updated'"), Is.EqualTo(1));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND new_values::text LIKE '%large%'"), Is.EqualTo(0));
    }

    [Test]
    public async Task Bad_worker_configs_and_unknown_workers_get_4xx_problem_details()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        using (var unknown = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/nope/config", new { enabled = true }))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
        using (var unknownRead = await client.GetAsync($"/v1/tenants/{tenantId}/workers/nope/config"))
        {
            await TestApi.ExpectProblemAsync(unknownRead, HttpStatusCode.NotFound, "not_found");
        }
        using (var array = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/summarizer/config", new { config = new[] { 1, 2 } }))
        {
            var body = await TestApi.ExpectProblemAsync(array, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["config"], Is.Not.Null);
        }
        using (var negative = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/summarizer/config", new { max_runs_per_day = -2 }))
        {
            var body = await TestApi.ExpectProblemAsync(negative, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["max_runs_per_day"], Is.Not.Null);
        }
        using (var wrongType = await client.SendAsync(TestApi.Request(HttpMethod.Put, $"/v1/tenants/{tenantId}/workers/summarizer/config", "{\"enabled\": \"yes\"}")))
        {
            await TestApi.ExpectProblemAsync(wrongType, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM worker_configs WHERE tenant_id = @t"), Is.EqualTo(0));
    }
}
