using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Platform.Tests.ApiKeys;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Usage;

/// <summary>Proves the quota check the product calls (POST /usage/check) and the hard meter policy (ADR 0563): allowed with used, quota and remaining,
/// or 429 quota_exceeded with Retry-After at the reset; a hard meter refuses the ingestion that would pass its quota, writes nothing of that batch,
/// and under parallel ingestion accepts exactly the quota.</summary>
public sealed class QuotaCheckTests : DatabaseTest
{
    private static async Task IngestAsync(HttpClient client, Guid tenantId, HttpStatusCode expected, params object[] events)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", events);
        Assert.That(response.StatusCode, Is.EqualTo(expected), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task The_check_answers_allowed_with_what_remains_or_429_with_retry_after_at_the_reset()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 4.5m, idempotency_key = "g" });
        var url = $"/v1/tenants/{tenantId}/usage/check";

        using (var allowed = await client.PostAsJsonAsync(url, new { meter = "gpu_hours", amount = 0.5m }))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(allowed);
            Assert.Multiple(() =>
            {
                Assert.That((bool?)body["allowed"], Is.True);
                Assert.That((decimal?)body["used"], Is.EqualTo(4.5m));
                Assert.That((long?)body["quota"], Is.EqualTo(5));
                Assert.That((decimal?)body["remaining"], Is.EqualTo(0.5m));
            });
        }
        using (var refused = await client.PostAsJsonAsync(url, new { meter = "gpu_hours", amount = 0.51m }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            var now = DateTimeOffset.UtcNow;
            var reset = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
            var retryAfter = long.Parse(refused.Headers.RetryAfter!.ToString(), CultureInfo.InvariantCulture);
            Assert.Multiple(() =>
            {
                Assert.That((string?)problem["quota"], Is.EqualTo("gpu_hours"));
                Assert.That((long?)problem["limit"], Is.EqualTo(5));
                Assert.That((decimal?)problem["current"], Is.EqualTo(4.5m));
                Assert.That(DateTimeOffset.Parse((string)problem["resets_at"]!, CultureInfo.InvariantCulture), Is.EqualTo(reset));
                Assert.That(retryAfter, Is.InRange((long)(reset - now).TotalSeconds - 60, (long)(reset - now).TotalSeconds + 60));
            });
        }
        using (var noQuota = await client.PostAsJsonAsync(url, new { meter = "images", amount = 1_000_000 }))
        {
            var body = await TestApi.ReadAsync(noQuota);
            Assert.That((bool?)body["allowed"], Is.True);
            Assert.That(body["quota"], Is.Null);
            Assert.That(body["remaining"], Is.Null);
        }
    }

    [Test]
    public async Task Keys_need_usage_read_viewers_are_refused_other_tenants_get_404_and_bad_input_gets_422()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var url = $"/v1/tenants/{tenantId}/usage/check";
        var body = new { meter = "gpu_hours", amount = 1 };
        var reader = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId, permissions: ["usage:read"]);
        var runner = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId, permissions: ["runs:read"]);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var stranger = await TestApi.SignUpAsync();

        await TestApi.ExpectAsync(await TestApi.Client(reader.Secret).PostAsJsonAsync(url, body), HttpStatusCode.OK);
        await TestApi.ExpectProblemAsync(await TestApi.Client(runner.Secret).PostAsJsonAsync(url, body), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await TestApi.Client(viewer.Token).PostAsJsonAsync(url, body), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await TestApi.Client(stranger.Token).PostAsJsonAsync(url, body), HttpStatusCode.NotFound, "not_found");

        var client = TestApi.Client(owner.Token);
        foreach (var (json, field) in new[]
        {
            ("""{"meter": "gpu_hours", "amount": "abc"}""", "amount"),
            ("""{"meter": "gpu_hours", "amount": true}""", "amount"),
            ("""{"meter": "gpu_hours", "amount": 0.12345}""", "amount"),
            ("""{"meter": "api_calls", "amount": 1.5}""", "amount"),
            ("""{"meter": "gpu_hours", "amount": -1}""", "amount"),
            ("""{"meter": "gpu_hours"}""", "amount"),
            ("""{"meter": "Bad Meter!", "amount": 1}""", "meter"),
            ("""{"amount": 1}""", "meter"),
        })
        {
            using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, json));
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Does.Contain(field), json);
        }
        using (var broken = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, """{"meter": """)))
        {
            await TestApi.ExpectProblemAsync(broken, HttpStatusCode.BadRequest, "validation_failed");
        }
    }

    [Test]
    public async Task A_hard_meter_refuses_the_batch_that_would_pass_its_quota_and_writes_nothing_of_it_while_soft_allows_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        var client = TestApi.Client(owner.Token);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var policy = $"/v1/tenants/{tenantId}/usage/policies/gpu_hours";

        await TestApi.ExpectProblemAsync(await TestApi.Client(viewer.Token).PutAsJsonAsync(policy, new { policy = "hard" }), HttpStatusCode.Forbidden, "forbidden");
        using (var bad = await client.SendAsync(TestApi.Request(HttpMethod.Put, policy, """{"policy": "medium"}""")))
        {
            var problem = await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "policy" }));
        }
        using (var set = await client.PutAsJsonAsync(policy, new { policy = "hard" }))
        {
            await TestApi.ExpectAsync(set, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(set))["policy"], Is.EqualTo("hard"));
        }

        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 4.75m, idempotency_key = "a" });
        // Admission is per event (ADR 0770): a batch of which no event fits is refused whole (a mixed batch is PerEventIngestionTests' case).
        using (var over = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "b" },
            new { meter = "gpu_hours", amount = 0.75m, idempotency_key = "img" },
        }))
        {
            var problem = await TestApi.ExpectProblemAsync(over, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((string?)problem["quota"], Is.EqualTo("gpu_hours"));
            Assert.That(over.Headers.RetryAfter, Is.Not.Null);
        }
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(1));
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT string_agg(meter || '=' || used::text, ',' ORDER BY meter) FROM usage_rollups", tenantId),
            Is.EqualTo("gpu_hours=4.75"));
        // Exactly up to the quota is allowed.
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "c" });

        await TestApi.ExpectAsync(await client.PutAsJsonAsync(policy, new { policy = "soft" }), HttpStatusCode.OK);
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 10m, idempotency_key = "d" });
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT trim_scale(used)::text FROM usage_rollups WHERE meter = 'gpu_hours'", tenantId), Is.EqualTo("15"));
    }

    [Test]
    public async Task Sixty_parallel_ingestions_against_a_hard_quota_accept_exactly_the_quota()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours: 20 events of 0.25
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
                new[] { new { meter = "gpu_hours", amount = 0.25m, idempotency_key = $"p{i}" } });
            return response.StatusCode;
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(20));
            Assert.That(statuses.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(40));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(20));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT trim_scale(used)::text FROM usage_rollups WHERE meter = 'gpu_hours'", tenantId), Is.EqualTo("5"));
        });
    }
}
