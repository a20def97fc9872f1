using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Tests.Operators;

namespace Platform.Tests.Runs;

/// <summary>The worker catalogue managed over HTTP by operators (issue 14, ADR 0600): registration, versions, status, private workers,
/// input schemas and token estimates, each seen from the tenant's side at admission.</summary>
public sealed class WorkerCatalogueTests : DatabaseTest
{
    private static readonly object InputSchema = new
    {
        type = "object",
        required = new[] { "text" },
        properties = new { text = new { type = "string", maxLength = 20 }, language = new { type = "string", @enum = new[] { "en", "fr" } } },
        additionalProperties = false,
    };

    [Test]
    public async Task An_operator_registers_a_worker_that_tenants_run_and_its_input_is_checked_against_the_schema_by_json_pointer()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var id = NewWorkerId();
        using (var created = await admin.PostAsJsonAsync("/v1/admin/workers", new
        {
            id, version = "1.0.0", name = "Translator", description = "Translates short texts.", base_cents_per_run = 3, cents_per_1k_tokens = 2,
            default_config = new { model = "small" }, input_schema = InputSchema, tokens_per_run_estimate = 500, reason_code = "launch",
        }))
        {
            await TestApi.ExpectAsync(created, HttpStatusCode.Created);
            var body = await TestApi.ReadAsync(created);
            Assert.Multiple(() =>
            {
                Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"/v1/admin/workers/{id}"));
                Assert.That((string?)body["worker"]!["version"], Is.EqualTo("1.0.0"));
                Assert.That((string?)body["worker"]!["status"], Is.EqualTo("active"));
                Assert.That((string?)body["worker"]!["default_config"]!["model"], Is.EqualTo("small"));
                Assert.That((string?)body["action"]!["action_type"], Is.EqualTo("worker.register"));
                Assert.That((string?)body["action"]!["reason_code"], Is.EqualTo("launch"));
            });
        }
        using (var again = await admin.PostAsJsonAsync("/v1/admin/workers", new { id, version = "1.0.0", name = "Other", reason_code = "launch" }))
        {
            await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "worker_exists");
        }

        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var listed = await TestApi.ReadAsync(await TestApi.Client().GetAsync("/v1/workers"));
        Assert.That(listed["data"]!.AsArray().Select(w => (string?)w!["id"]), Does.Contain(id), "a public worker is in the public list");

        using (var ok = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = id, task = "t", input = new { text = "bonjour", language = "fr" } }))
        {
            await TestApi.ExpectAsync(ok, HttpStatusCode.Created);
            Assert.That((string?)(await TestApi.ReadAsync(ok))["worker_version"], Is.EqualTo("1.0.0"));
        }
        using (var bad = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs",
            new { worker_id = id, task = "t", input = new { text = "far too long for the twenty characters", language = "de" } }))
        {
            await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            var errors = (await TestApi.ReadAsync(bad))["errors"]!.AsObject();
            Assert.That(errors.Select(e => e.Key), Is.EquivalentTo(new[] { "input/text", "input/language" }));
        }
        using (var missing = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = id, task = "t" }))
        {
            await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That((await TestApi.ReadAsync(missing))["errors"]!.AsObject().Select(e => e.Key), Is.EqualTo(new[] { "input" }));
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1), "refused runs write nothing");
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_new_version_applies_to_the_next_runs_and_reversing_it_restores_the_one_before()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var id = await RegisterAsync(admin, new { base_cents_per_run = 1, cents_per_1k_tokens = 0 });
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var first = await Runs.CreateRunAsync(client, tenantId, id);

        using (var older = await admin.PostAsJsonAsync($"/v1/admin/workers/{id}/versions", new { version = "0.9.0", reason_code = "oops" }))
        {
            await TestApi.ExpectProblemAsync(older, HttpStatusCode.Conflict, "version_not_newer");
        }
        string actionId;
        using (var published = await admin.PostAsJsonAsync($"/v1/admin/workers/{id}/versions", new { version = "1.1.0", base_cents_per_run = 7, reason_code = "price" }))
        {
            await TestApi.ExpectAsync(published, HttpStatusCode.Created);
            var body = await TestApi.ReadAsync(published);
            Assert.That((long?)body["worker"]!["base_cents_per_run"], Is.EqualTo(7));
            Assert.That((string?)body["worker"]!["name"], Is.EqualTo("Catalogue test worker"), "fields left out keep the current version's value");
            Assert.That(body["worker"]!["versions"]!.AsArray().Select(v => (string?)v!["version"]), Is.EqualTo(new[] { "1.1.0", "1.0.0" }));
            actionId = (string)body["action"]!["id"]!;
        }

        // The run started on 1.0.0 is priced by the worker as it is when it completes; the new run names 1.1.0.
        var second = await Runs.CreateRunAsync(client, tenantId, id);
        Assert.That((string?)second["worker_version"], Is.EqualTo("1.1.0"));
        Assert.That((string?)first["worker_version"], Is.EqualTo("1.0.0"));
        using (var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)second["id"]!), tokens: 0))
        {
            Assert.That((long?)(await TestApi.ReadAsync(done))["cost_cents"], Is.EqualTo(7));
        }

        using (var reversed = await admin.PostAsJsonAsync($"/v1/admin/actions/{actionId}/reverse", new { reason_code = "rollback" }))
        {
            await TestApi.ExpectAsync(reversed, HttpStatusCode.Created);
        }
        var worker = await TestApi.ReadAsync(await admin.GetAsync($"/v1/admin/workers/{id}"));
        Assert.That((string?)worker["version"], Is.EqualTo("1.0.0"));
        Assert.That((long?)worker["base_cents_per_run"], Is.EqualTo(1));
        var third = await Runs.CreateRunAsync(client, tenantId, id);
        Assert.That((string?)third["worker_version"], Is.EqualTo("1.0.0"));
    }

    [Test]
    public async Task A_retired_worker_admits_no_run_a_deprecated_one_still_does_and_reversing_the_retirement_brings_it_back()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var id = await RegisterAsync(admin, new { });
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);

        using (var deprecate = await admin.PostAsJsonAsync($"/v1/admin/workers/{id}/status", new { status = "deprecated", reason_code = "successor" }))
        {
            await TestApi.ExpectAsync(deprecate, HttpStatusCode.OK);
        }
        await Runs.CreateRunAsync(client, tenantId, id);
        var tenantList = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenantId}/workers"));
        Assert.That((string?)tenantList["data"]!.AsArray().Single(w => (string?)w!["id"] == id)!["status"], Is.EqualTo("deprecated"));

        string retireId;
        using (var retire = await admin.PostAsJsonAsync($"/v1/admin/workers/{id}/status", new { status = "retired", reason_code = "end_of_life" }))
        {
            await TestApi.ExpectAsync(retire, HttpStatusCode.OK);
            retireId = (string)(await TestApi.ReadAsync(retire))["action"]!["id"]!;
        }
        using (var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = id, task = "t", input = new { text = "x" } }))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "worker_retired");
        }
        tenantList = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenantId}/workers"));
        Assert.That(tenantList["data"]!.AsArray().Select(w => (string?)w!["id"]), Does.Not.Contain(id));
        using (var bad = await admin.PostAsJsonAsync($"/v1/admin/workers/{id}/status", new { status = "gone", reason_code = "x" }))
        {
            await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }

        using (var reversed = await admin.PostAsJsonAsync($"/v1/admin/actions/{retireId}/reverse", new { reason_code = "mistake" }))
        {
            await TestApi.ExpectAsync(reversed, HttpStatusCode.Created);
        }
        await Runs.CreateRunAsync(client, tenantId, id);
    }

    [Test]
    public async Task A_private_worker_is_seen_and_run_only_by_the_tenants_given_it_and_others_get_the_answer_of_an_unknown_worker()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (_, support) = await OperatorTestSupport.SignedInAsync("support");
        var id = await RegisterAsync(admin, new { is_public = false });
        var owner = await TestApi.SignUpAsync();
        var given = await TestApi.CreateTenantAsync(owner);
        var other = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);

        var publicList = await TestApi.ReadAsync(await TestApi.Client().GetAsync("/v1/workers"));
        Assert.That(publicList["data"]!.AsArray().Select(w => (string?)w!["id"]), Does.Not.Contain(id));

        using (var grant = await support.PutAsJsonAsync($"/v1/admin/workers/{id}/tenants/{given}", new { reason_code = "pilot" }))
        {
            await TestApi.ExpectAsync(grant, HttpStatusCode.OK);
        }
        await Runs.CreateRunAsync(client, given, id);
        var givenList = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{given}/workers"));
        Assert.That(givenList["data"]!.AsArray().Select(w => (string?)w!["id"]), Does.Contain(id));
        var audit = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{given}/audit-log?action=worker.access_granted"));
        Assert.That(audit["data"]!.AsArray(), Has.Count.EqualTo(1));

        using (var unknown = await client.PostAsJsonAsync($"/v1/tenants/{other}/runs", new { worker_id = id, task = "t", input = new { text = "x" } }))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That((await TestApi.ReadAsync(unknown))["errors"]!["worker_id"]![0]!.ToString(), Is.EqualTo("There is no worker with this id."));
        }
        using (var config = await client.GetAsync($"/v1/tenants/{other}/workers/{id}/config"))
        {
            await TestApi.ExpectProblemAsync(config, HttpStatusCode.NotFound, "not_found");
        }
        var otherList = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{other}/workers"));
        Assert.That(otherList["data"]!.AsArray().Select(w => (string?)w!["id"]), Does.Not.Contain(id));

        using (var revoke = await support.DeleteAsync($"/v1/admin/workers/{id}/tenants/{given}?reason_code=pilot_over"))
        {
            await TestApi.ExpectAsync(revoke, HttpStatusCode.OK);
        }
        using (var after = await client.PostAsJsonAsync($"/v1/tenants/{given}/runs", new { worker_id = id, task = "t", input = new { text = "x" } }))
        {
            await TestApi.ExpectProblemAsync(after, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
    }

    [Test]
    public async Task A_worker_expected_to_use_more_tokens_than_the_configs_budget_is_not_started_and_the_counters_stay()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var id = await RegisterAsync(admin, new { tokens_per_run_estimate = 5000 });
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        using (var put = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{id}/config", new { max_tokens_per_run = 1000 }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        using (var refused = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = id, task = "t", input = new { text = "x" } }))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Conflict, "max_tokens_per_run_exceeded");
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.Zero);
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.Zero);
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT coalesce(sum(x.runs_today), 0) FROM worker_configs c CROSS JOIN run_stripe_totals(@t, 'worker:' || c.worker_id) x WHERE c.tenant_id = @t"), Is.Zero);
        });
        using (var raise = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/{id}/config", new { max_tokens_per_run = 5000 }))
        {
            await TestApi.ExpectAsync(raise, HttpStatusCode.OK);
        }
        await Runs.CreateRunAsync(client, tenantId, id);
    }

    [Test]
    public async Task Bad_definitions_get_422_naming_each_field_and_only_super_admins_change_the_catalogue()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (_, support) = await OperatorTestSupport.SignedInAsync("support");
        using (var bad = await admin.PostAsJsonAsync("/v1/admin/workers", new
        {
            id = "Bad Id", version = "1.0", name = "", base_cents_per_run = -1, default_config = new[] { 1 },
            input_schema = new { type = 42 }, tokens_per_run_estimate = -5, reason_code = "x",
        }))
        {
            await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            var errors = (await TestApi.ReadAsync(bad))["errors"]!.AsObject().Select(e => e.Key);
            Assert.That(errors, Is.SupersetOf(new[] { "id", "version", "name", "base_cents_per_run", "default_config", "input_schema", "tokens_per_run_estimate" }));
        }
        using (var nul = await admin.PostAsJsonAsync("/v1/admin/workers", new { id = NewWorkerId(), version = "1.0.0", name = "a\u0000b", reason_code = "x" }))
        {
            Assert.That((int)nul.StatusCode, Is.EqualTo(422).Or.EqualTo(400));
        }
        using (var forbidden = await support.PostAsJsonAsync("/v1/admin/workers", new { id = NewWorkerId(), version = "1.0.0", name = "W", reason_code = "x" }))
        {
            await TestApi.ExpectProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var noReason = await admin.PostAsJsonAsync("/v1/admin/workers", new { id = NewWorkerId(), version = "1.0.0", name = "W" }))
        {
            await TestApi.ExpectProblemAsync(noReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var unknown = await admin.GetAsync($"/v1/admin/workers/{NewWorkerId()}"))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
    }

    private static string NewWorkerId() => "w" + Guid.NewGuid().ToString("N")[..20];

    private static async Task<string> RegisterAsync(HttpClient admin, object overrides)
    {
        var id = NewWorkerId();
        var body = new JsonObject
        {
            ["id"] = id, ["version"] = "1.0.0", ["name"] = "Catalogue test worker", ["description"] = "A worker of the catalogue tests.",
            ["reason_code"] = "test",
        };
        foreach (var (key, value) in JsonSerializerOverrides(overrides))
        {
            body[key] = value;
        }
        using var created = await admin.PostAsJsonAsync("/v1/admin/workers", body);
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        return id;
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> JsonSerializerOverrides(object overrides) =>
        System.Text.Json.JsonSerializer.SerializeToNode(overrides)!.AsObject().Select(p => new KeyValuePair<string, JsonNode?>(p.Key, p.Value?.DeepClone())).ToList();
}
