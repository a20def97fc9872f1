using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using MediatR;
using Platform.Engines.Runs;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Tests.Runs;

public sealed class RunAdmissionTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_the_concurrency_limit_under_200_parallel_requests_and_exactly_as_many_after_completing_them()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: 5, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);

        var first = await Runs.CreateManyAsync(client, tenantId, 200);
        var admitted = first.Where(r => r.Status == HttpStatusCode.Created).ToList();
        var refused = first.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(admitted, Has.Count.EqualTo(5));
            Assert.That(refused, Has.Count.EqualTo(195));
            Assert.That(refused.Select(r => (string?)r.Body["quota"]).Distinct(), Is.EqualTo(new[] { "max_concurrent_runs" }));
            Assert.That(refused.Select(r => (long?)r.Body["limit"]).Distinct(), Is.EqualTo(new long?[] { 5 }));
        });
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(5));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(5));

        foreach (var run in admitted)
        {
            using var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run.Body["id"]!));
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));

        var second = await Runs.CreateManyAsync(client, tenantId, 200);
        Assert.That(second.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(5));
        Assert.That(second.Count(r => r.Status == HttpStatusCode.TooManyRequests), Is.EqualTo(195));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(10));
    }

    [Test]
    public async Task One_tenant_admits_on_many_stripes_and_exactly_its_limit_under_200_parallel_requests_also_after_the_limit_is_cut()
    {
        // The single-tenant hot path (ADR 0750): the counts spread over the tenant's stripes, yet 200 parallel requests at a limit of 50 get
        // exactly 50; cutting the limit below the running count re-cuts every stripe's budget, so the next burst gets exactly the room left.
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: 50, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);

        var first = await Runs.CreateManyAsync(client, tenantId, 200);
        var admitted = first.Where(r => r.Status == HttpStatusCode.Created).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(admitted, Has.Count.EqualTo(50));
            Assert.That(first.Count(r => r.Status == HttpStatusCode.TooManyRequests), Is.EqualTo(150));
        });
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(50));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM run_admission_stripes WHERE tenant_id = @t AND scope = 'tenant' AND active_runs > 0"),
            Is.GreaterThan(1), "no single row counts every admission");

        await TestTenant.Existing(tenantId).WithLimits(concurrentRuns: 10).ApplyAsync();
        foreach (var run in admitted.Take(45))
        {
            using var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run.Body["id"]!));
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        }
        var second = await Runs.CreateManyAsync(client, tenantId, 200);
        Assert.Multiple(() =>
        {
            Assert.That(second.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(5), "5 running, limit 10");
            Assert.That(second.Count(r => r.Status == HttpStatusCode.TooManyRequests), Is.EqualTo(195));
        });
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(10));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t AND status = 'running'"), Is.EqualTo(10));
    }

    [Test]
    public async Task One_tenant_admits_exactly_its_daily_limit_under_200_parallel_requests_with_budgets_spread_over_stripes()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: 50, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);

        var first = await Runs.CreateManyAsync(client, tenantId, 200);
        var second = await Runs.CreateManyAsync(client, tenantId, 200);

        Assert.Multiple(() =>
        {
            Assert.That(first.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(50));
            Assert.That(second.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(0));
        });
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(50));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(50));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM run_admission_stripes WHERE tenant_id = @t AND scope = 'tenant' AND runs_today > 0"),
            Is.GreaterThan(1));
    }

    [Test]
    public async Task Admits_exactly_the_daily_limit_under_200_parallel_requests_and_none_after_completing_them()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: 5, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);

        var first = await Runs.CreateManyAsync(client, tenantId, 200);
        var admitted = first.Where(r => r.Status == HttpStatusCode.Created).ToList();
        Assert.That(admitted, Has.Count.EqualTo(5));
        var refusal = first.First(r => r.Status == HttpStatusCode.TooManyRequests);
        Assert.Multiple(() =>
        {
            Assert.That(first.Count(r => r.Status == HttpStatusCode.TooManyRequests), Is.EqualTo(195));
            Assert.That((string?)refusal.Body["code"], Is.EqualTo("quota_exceeded"));
            Assert.That((string?)refusal.Body["quota"], Is.EqualTo("max_runs_per_day"));
            Assert.That((long?)refusal.Body["current"], Is.EqualTo(5));
            Assert.That(refusal.Response.Headers.RetryAfter, Is.Not.Null);
            Assert.That((string?)refusal.Body["resets_at"], Is.Not.Null);
        });
        foreach (var run in admitted)
        {
            using var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run.Body["id"]!));
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        }

        var second = await Runs.CreateManyAsync(client, tenantId, 200);
        Assert.That(second.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(0));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(5));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(5));
    }

    [Test]
    public async Task Admits_exactly_the_per_worker_daily_limit_under_200_parallel_requests_and_leaves_other_workers_open()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);
        using (var put = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/extractor/config", new { enabled = true, max_runs_per_day = 3 }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }

        var results = await Runs.CreateManyAsync(client, tenantId, 200, "extractor");
        Assert.That(results.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(3));
        var refusal = results.First(r => r.Status == HttpStatusCode.TooManyRequests);
        Assert.That((string?)refusal.Body["quota"], Is.EqualTo("worker_max_runs_per_day"));
        await Runs.CreateRunAsync(client, tenantId, "summarizer");
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'worker:extractor')"), Is.EqualTo(3));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(4));
    }

    [Test]
    public async Task Runs_per_day_reset_across_a_UTC_midnight_and_tokens_across_a_month_end()
    {
        using var api = new ClockedApi();
        var owner = await TestApi.SignUpAsync();
        var client = api.Client(owner.Token);
        using var created = await client.PostAsJsonAsync("/v1/tenants", new { name = "Clocked", slug = "clocked-" + Guid.NewGuid().ToString("N")[..8] });
        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var tenantId = Guid.Parse((string)(await TestApi.ReadAsync(created))["id"]!);
        await TestTenant.Existing(tenantId).WithLimits(concurrentRuns: -1, runsPerDay: 3, tokensPerMonth: 1000).ApplyAsync();
        using (var put = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/classifier/config", new { max_runs_per_day = 2 }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }

        var run = await Runs.CreateRunAsync(client, tenantId);
        using (var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!), tokens: 1000))
        {
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        }
        using (var overTokens = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }))
        {
            var body = await TestApi.ExpectProblemAsync(overTokens, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((string?)body["quota"], Is.EqualTo("max_tokens_per_month"));
            Assert.That(DateTimeOffset.Parse((string)body["resets_at"]!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(new DateTimeOffset(2031, 4, 1, 0, 0, 0, TimeSpan.Zero)));
        }
        await TestTenant.Existing(tenantId).WithLimits(tokensPerMonth: -1).ApplyAsync();
        await Runs.CreateRunAsync(client, tenantId, "classifier");
        await Runs.CreateRunAsync(client, tenantId, "classifier");
        using (var overWorker = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "classifier", task = "t" }))
        {
            var body = await TestApi.ExpectProblemAsync(overWorker, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((string?)body["quota"], Is.EqualTo("worker_max_runs_per_day"));
        }
        using (var overDay = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }))
        {
            var body = await TestApi.ExpectProblemAsync(overDay, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((string?)body["quota"], Is.EqualTo("max_runs_per_day"));
            Assert.That(DateTimeOffset.Parse((string)body["resets_at"]!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(new DateTimeOffset(2031, 4, 1, 0, 0, 0, TimeSpan.Zero)));
        }

        api.Clock.UtcNow = new DateTimeOffset(2031, 4, 1, 0, 0, 30, TimeSpan.Zero);
        await TestTenant.Existing(tenantId).WithLimits(tokensPerMonth: 1000).ApplyAsync();
        await Runs.CreateRunAsync(client, tenantId, "classifier");
        await Runs.CreateRunAsync(client, tenantId, "classifier");
        await Runs.CreateRunAsync(client, tenantId, "summarizer");
        var refused = await Runs.CreateManyAsync(client, tenantId, 20);
        Assert.That(refused.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(0));
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(3));
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT tokens_this_month FROM tenants WHERE id = @t"), Is.EqualTo(0));
            Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'worker:classifier')"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Completing_prices_the_run_in_cents_frees_its_slot_and_records_tokens_and_runs_usage()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var run = await Runs.CreateRunAsync(client, tenantId);
        var runId = Guid.Parse((string)run["id"]!);
        Assert.Multiple(() =>
        {
            Assert.That((string?)run["status"], Is.EqualTo("running"));
            Assert.That((int?)run["attempt"], Is.EqualTo(1));
            Assert.That((string?)run["input"]!["text"], Is.EqualTo("hello"));
            Assert.That((string?)run["created_by"]!["type"], Is.EqualTo("user"));
        });

        // summarizer: 1 cent per run + 2 cents per 1,000 tokens, rounded up: 1 + ceil(1001 * 2 / 1000) = 1 + 3.
        using var done = await Runs.CompleteAsync(client, tenantId, runId, tokens: 1001);
        await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        var completed = await TestApi.ReadAsync(done);
        Assert.Multiple(() =>
        {
            Assert.That((string?)completed["status"], Is.EqualTo("succeeded"));
            Assert.That((long?)completed["cost_cents"], Is.EqualTo(4));
            Assert.That((long?)completed["total_tokens"], Is.EqualTo(1001));
            Assert.That((string?)completed["output"]!["summary"], Is.EqualTo("ok"));
            Assert.That((string?)completed["stages"]![0]!["name"], Is.EqualTo("draft"));
        });
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT tokens_this_month FROM tenants WHERE id = @t"), Is.EqualTo(1001));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT used FROM usage_rollups WHERE tenant_id = @t AND meter = 'tokens'"), Is.EqualTo(1001));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT used FROM usage_rollups WHERE tenant_id = @t AND meter = 'runs'"), Is.EqualTo(1));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND action IN ('run.created', 'run.completed')"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_run_over_its_workers_token_budget_fails_with_a_policy_violation_whatever_the_worker_reported()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        using (var put = await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/summarizer/config", new { max_tokens_per_run = 100 }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        var run = await Runs.CreateRunAsync(client, tenantId);
        Assert.That((int?)run["max_tokens_per_run"], Is.EqualTo(100));
        using var done = await Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!), tokens: 150);
        await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(done);
        Assert.That(body["policy_violations"]!.AsArray().Select(v => (string?)v), Is.EqualTo(new[] { "max_tokens_per_run" }));
        Assert.That((long?)body["total_tokens"], Is.EqualTo(150));
        Assert.That((string?)body["status"], Is.EqualTo("failed"), "success was reported, but the run used more than its budget");
        Assert.That((string?)body["error"], Does.Contain("max_tokens_per_run"));
        Assert.That((long?)body["cost_cents"], Is.GreaterThan(0), "the tokens used still cost");
    }

    [Test]
    public async Task Completing_twice_gets_409_and_of_20_parallel_completions_exactly_one_wins()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var runId = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId))["id"]!);
        using (var first = await Runs.CompleteAsync(client, tenantId, runId))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        }
        using (var again = await Runs.CompleteAsync(client, tenantId, runId, success: false))
        {
            await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "run_already_completed");
        }

        var raceId = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId))["id"]!);
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await Runs.CompleteAsync(client, tenantId, raceId, tokens: 10);
            return response.StatusCode;
        }));
        Assert.That(results.Count(s => s == HttpStatusCode.OK), Is.EqualTo(1));
        Assert.That(results.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(19));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT tokens_this_month FROM tenants WHERE id = @t"), Is.EqualTo(110));
    }

    [Test]
    public async Task Another_tenants_run_id_gets_404_on_get_and_complete()
    {
        var alice = await TestApi.SignUpAsync();
        var aliceTenant = await TestApi.CreateTenantAsync(alice);
        var bob = await TestApi.SignUpAsync();
        var bobTenant = await TestApi.CreateTenantAsync(bob);
        var aliceRun = Guid.Parse((string)(await Runs.CreateRunAsync(TestApi.Client(alice.Token), aliceTenant))["id"]!);
        var bobClient = TestApi.Client(bob.Token);

        using var get = await bobClient.GetAsync($"/v1/tenants/{bobTenant}/runs/{aliceRun}");
        await TestApi.ExpectProblemAsync(get, HttpStatusCode.NotFound, "not_found");
        using var complete = await Runs.CompleteAsync(bobClient, bobTenant, aliceRun);
        await TestApi.ExpectProblemAsync(complete, HttpStatusCode.NotFound, "not_found");
        using var foreignRoute = await bobClient.GetAsync($"/v1/tenants/{aliceTenant}/runs/{aliceRun}");
        await TestApi.ExpectProblemAsync(foreignRoute, HttpStatusCode.NotFound, "not_found");
        using var foreignCreate = await bobClient.PostAsJsonAsync($"/v1/tenants/{aliceTenant}/runs", new { worker_id = "summarizer", task = "t" });
        await TestApi.ExpectProblemAsync(foreignCreate, HttpStatusCode.NotFound, "not_found");
        using var notAnId = await bobClient.GetAsync($"/v1/tenants/{bobTenant}/runs/not-a-uuid");
        await TestApi.ExpectProblemAsync(notAnId, HttpStatusCode.NotFound, "not_found");
        Assert.That(await Runs.ScalarAsync(aliceTenant, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
    }

    [Test]
    public async Task Bad_run_input_gets_4xx_problem_details_and_writes_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var runs = $"/v1/tenants/{tenantId}/runs";

        using (var unknown = await client.PostAsJsonAsync(runs, new { worker_id = "no-such-worker", task = "t" }))
        {
            var body = await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["worker_id"], Is.Not.Null);
        }
        using (var noTask = await client.PostAsJsonAsync(runs, new { worker_id = "summarizer" }))
        {
            var body = await TestApi.ExpectProblemAsync(noTask, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["task"], Is.Not.Null);
        }
        using (var badParent = await client.PostAsJsonAsync(runs, new { worker_id = "summarizer", task = "t", parent_run_id = Guid.NewGuid() }))
        {
            var body = await TestApi.ExpectProblemAsync(badParent, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["parent_run_id"], Is.Not.Null);
        }
        using (var malformed = await client.SendAsync(TestApi.Request(HttpMethod.Post, runs, "{\"worker_id\": ")))
        {
            await TestApi.ExpectProblemAsync(malformed, HttpStatusCode.BadRequest, "validation_failed");
        }
        using (var wrongType = await client.SendAsync(TestApi.Request(HttpMethod.Post, runs, "{\"worker_id\": \"summarizer\", \"task\": \"t\", \"parent_run_id\": 5}")))
        {
            await TestApi.ExpectProblemAsync(wrongType, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        var runId = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId))["id"]!);
        using (var negative = await client.PostAsJsonAsync($"{runs}/{runId}/complete", new { success = true, total_tokens = -1, latency_ms = 5 }))
        {
            var body = await TestApi.ExpectProblemAsync(negative, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["total_tokens"], Is.Not.Null);
        }
        using (var missing = await client.PostAsJsonAsync($"{runs}/{runId}/complete", new { output = "x" }))
        {
            var body = await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "success", "total_tokens", "latency_ms" }));
        }
        using (var badStatus = await client.GetAsync($"{runs}?status=exploded"))
        {
            await TestApi.ExpectProblemAsync(badStatus, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var badLimit = await client.GetAsync($"{runs}?limit=500"))
        {
            await TestApi.ExpectProblemAsync(badLimit, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(1));
    }

    [Test]
    public async Task Viewers_read_runs_but_cannot_start_them_and_suspended_tenants_or_disabled_workers_are_refused()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var member = await TestApi.MemberAsync(tenantId, "member");
        await Runs.CreateRunAsync(TestApi.Client(member.Token), tenantId);

        using (var create = await TestApi.Client(viewer.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }))
        {
            await TestApi.ExpectProblemAsync(create, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var list = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/runs"))
        {
            await TestApi.ExpectAsync(list, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Has.Count.EqualTo(1));
        }
        using (var disable = await TestApi.Client(owner.Token).PutAsJsonAsync($"/v1/tenants/{tenantId}/workers/summarizer/config", new { enabled = false }))
        {
            await TestApi.ExpectAsync(disable, HttpStatusCode.OK);
        }
        using (var disabled = await TestApi.Client(member.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "summarizer", task = "t" }))
        {
            await TestApi.ExpectProblemAsync(disabled, HttpStatusCode.Forbidden, "worker_disabled");
        }
        await TestTenant.Existing(tenantId).WithStatus("suspended").ApplyAsync();
        using (var suspended = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = "classifier", task = "t" }))
        {
            await TestApi.ExpectProblemAsync(suspended, HttpStatusCode.Forbidden, "tenant_suspended");
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(1));
    }

    [Test]
    public async Task Retries_link_their_parent_and_count_attempts()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var first = Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId))["id"]!);
        (await Runs.CompleteAsync(client, tenantId, first, success: false)).Dispose();
        var second = await Runs.CreateRunAsync(client, tenantId, parent: first);
        Assert.That((int?)second["attempt"], Is.EqualTo(2));
        Assert.That((string?)second["parent_run_id"], Is.EqualTo(first.ToString()));
        var secondId = Guid.Parse((string)second["id"]!);
        (await Runs.CompleteAsync(client, tenantId, secondId, success: false)).Dispose();
        var third = await Runs.CreateRunAsync(client, tenantId, parent: secondId);
        Assert.That((int?)third["attempt"], Is.EqualTo(3));
    }

    [Test]
    public async Task Lists_filter_by_status_and_worker_and_page_with_cursors_without_gaps_or_repeats()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: -1).CreateAsync();
        var client = TestApi.Client(owner.Token);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(Guid.Parse((string)(await Runs.CreateRunAsync(client, tenantId, i < 3 ? "summarizer" : "classifier"))["id"]!));
        }
        (await Runs.CompleteAsync(client, tenantId, ids[0])).Dispose();
        (await Runs.CompleteAsync(client, tenantId, ids[3])).Dispose();

        using (var succeeded = await client.GetAsync($"/v1/tenants/{tenantId}/runs?status=succeeded"))
        {
            Assert.That((await TestApi.ReadAsync(succeeded))["data"]!.AsArray().Select(r => Guid.Parse((string)r!["id"]!)), Is.EquivalentTo(new[] { ids[0], ids[3] }));
        }
        using (var classifier = await client.GetAsync($"/v1/tenants/{tenantId}/runs?worker_id=classifier&status=running"))
        {
            Assert.That((await TestApi.ReadAsync(classifier))["data"]!.AsArray().Select(r => Guid.Parse((string)r!["id"]!)), Is.EqualTo(new[] { ids[4] }));
        }
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            using var page = await client.GetAsync($"/v1/tenants/{tenantId}/runs?limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            await TestApi.ExpectAsync(page, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(page);
            seen.AddRange(body["data"]!.AsArray().Select(r => Guid.Parse((string)r!["id"]!)));
            cursor = (string?)body["next_cursor"];
        }
        while (cursor is not null);
        Assert.That(seen, Is.EqualTo(Enumerable.Reverse(ids).ToList()));
    }

    [Test]
    public async Task The_timeout_job_fails_stale_runs_once_and_frees_their_slots_with_four_copies_racing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithLimits(concurrentRuns: 30).CreateAsync();
        var otherTenant = await TestTenant.New(owner).WithLimits(concurrentRuns: 30).CreateAsync();
        var client = TestApi.Client(owner.Token);
        for (var i = 0; i < 30; i++)
        {
            await Runs.CreateRunAsync(client, i % 2 == 0 ? tenantId : otherTenant);
        }
        var finished = Guid.Parse((string)(await Runs.CreateManyAsync(client, tenantId, 1))[0].Body["id"]!);
        (await Runs.CompleteAsync(client, tenantId, finished)).Dispose();

        var before = DateTimeOffset.UtcNow.AddSeconds(5);
        var counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var scope = TestApi.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(before, MaxRunsPerTenant: 4));
        }));
        var total = counts.Sum();
        while (await TestApi.Services.CreateScope().ServiceProvider.GetRequiredService<IMediator>().Send(new TimeOutStaleRuns(before)) is var more && more > 0)
        {
            total += more;
        }
        Assert.That(total, Is.EqualTo(30));
        foreach (var t in new[] { tenantId, otherTenant })
        {
            Assert.That(await Runs.ScalarAsync(t, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(0));
            Assert.That(await Runs.ScalarAsync(t, "SELECT count(*) FROM runs WHERE tenant_id = @t AND status = 'timed_out'"), Is.EqualTo(15));
            Assert.That(await Runs.ScalarAsync(t, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND action = 'run.timed_out'"), Is.EqualTo(15));
        }
        Assert.That(await Runs.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t AND id = @r AND status = 'succeeded'", ("r", finished)), Is.EqualTo(1));
        using var late = await Runs.CompleteAsync(client, tenantId, finished);
        await TestApi.ExpectProblemAsync(late, HttpStatusCode.Conflict, "run_already_completed");
    }

    [Test]
    public async Task Api_key_callers_run_workers_within_their_permissions_and_only_in_their_tenant()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var otherTenant = await TestApi.CreateTenantAsync(owner);
        // Runs admitted with a key take a slot on the key's row, so the key must exist.
        var keyId = (await Platform.Tests.ApiKeys.Keys.CreateAsync(owner.Token, tenantId, ["runs:write", "runs:read"])).Id;
        var writer = Caller.ApiKey(keyId, tenantId, new HashSet<string> { "runs:write", "runs:read" });
        var reader = Caller.ApiKey(Guid.NewGuid(), tenantId, new HashSet<string> { "runs:read" });
        await using var scope = TestApi.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();

        var run = await mediator.Send(new CreateRun(writer, tenantId, "summarizer", "by key", null, null));
        Assert.That(run.ApiKeyId, Is.EqualTo(keyId));
        Assert.That(run.ActorType, Is.EqualTo("api_key"));
        var completed = await mediator.Send(new CompleteRun(writer, tenantId, run.Id, true, null, null, 2000, 10, null, null, null));
        Assert.That(completed.CostCents, Is.EqualTo(5));
        Assert.That((await mediator.Send(new GetRun(reader, tenantId, run.Id))).Id, Is.EqualTo(run.Id));
        Assert.ThrowsAsync<ForbiddenException>(() => mediator.Send(new CreateRun(reader, tenantId, "summarizer", "t", null, null)));
        Assert.ThrowsAsync<NotFoundException>(() => mediator.Send(new CreateRun(writer, otherTenant, "summarizer", "t", null, null)));
    }
}
