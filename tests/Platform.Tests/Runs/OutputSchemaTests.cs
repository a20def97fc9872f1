using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;

namespace Platform.Tests.Runs;

/// <summary>A successful completion's output is checked against the worker's output schema; a mismatch ends the run failed with the JSON
/// pointers of the mismatch, its tokens still counted (ADR 0717).</summary>
public sealed class OutputSchemaTests : DatabaseTest
{
    private static readonly object OutputSchema = new
    {
        type = "object",
        required = new[] { "summary" },
        properties = new { summary = new { type = "string", maxLength = 10 }, score = new { type = "number", minimum = 0 } },
    };

    private static async Task<(HttpClient Client, Guid TenantId, string Worker)> TenantWithSchemaWorkerAsync()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var id = "w" + Guid.NewGuid().ToString("N")[..20];
        using (var created = await admin.PostAsJsonAsync("/v1/admin/workers", new
        {
            id, version = "1.0.0", name = "Scored summary", description = "Summaries with a score.", base_cents_per_run = 1, cents_per_1k_tokens = 2,
            output_schema = OutputSchema, reason_code = "launch",
        }))
        {
            await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        }
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        return (TestApi.Client(owner.Token), tenantId, id);
    }

    private static async Task<HttpResponseMessage> CompleteAsync(HttpClient client, Guid tenantId, Guid runId, object? output, bool success = true) =>
        await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs/{runId}/complete", new { success, output, total_tokens = 1000, latency_ms = 5 });

    [Test]
    public async Task An_output_that_matches_succeeds_and_one_that_does_not_fails_the_run_with_the_pointers_and_costs_its_tokens()
    {
        var (client, tenantId, worker) = await TenantWithSchemaWorkerAsync();

        var good = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId, worker))["id"]!);
        using (var done = await CompleteAsync(client, tenantId, good, new { summary = "short", score = 0.5 }))
        {
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(done);
            Assert.That((string?)body["status"], Is.EqualTo("succeeded"));
        }

        var bad = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId, worker))["id"]!);
        using (var done = await CompleteAsync(client, tenantId, bad, new { summary = "far longer than ten characters", score = -1 }))
        {
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(done);
            Assert.Multiple(() =>
            {
                Assert.That((string?)body["status"], Is.EqualTo("failed"));
                Assert.That((string?)body["error"], Does.Contain("output/summary").And.Contain("output/score"));
                Assert.That(body["policy_violations"]!.AsArray().Select(v => (string?)v), Does.Contain("output_schema"));
                Assert.That((long?)body["total_tokens"], Is.EqualTo(1000), "the failed run's tokens still count");
                Assert.That((long?)body["cost_cents"], Is.EqualTo(3));
            });
        }

        // A missing output is checked too; a run the worker itself reports as failed is not checked.
        var missing = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId, worker))["id"]!);
        using (var done = await CompleteAsync(client, tenantId, missing, new { score = 1 }))
        {
            var body = await TestApi.ReadAsync(done);
            Assert.That((string?)body["status"], Is.EqualTo("failed"));
            Assert.That((string?)body["error"], Does.Contain("output"));
        }
        var reportedFailure = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId, worker))["id"]!);
        using (var done = await CompleteAsync(client, tenantId, reportedFailure, new { anything = true }, success: false))
        {
            var body = await TestApi.ReadAsync(done);
            Assert.That(body["policy_violations"]?.AsArray().Select(v => (string?)v) ?? [], Does.Not.Contain("output_schema"));
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t AND status = 'failed'"), Is.EqualTo(3));
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM tenants WHERE id = @t"), Is.Zero, "every slot was freed");
        });
    }

    [Test]
    public async Task A_completion_of_a_worker_without_an_output_schema_is_not_checked()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var run = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId))["id"]!);
        using var done = await CompleteAsync(client, tenantId, run, new[] { 1, 2, 3 });
        Assert.That((string?)(await TestApi.ReadAsync(done))["status"], Is.EqualTo("succeeded"));
    }
}
