using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Usage;
using Platform.Models;
using RunCalls = Platform.Tests.Runs.Runs;
using Platform.Models.Errors;

namespace Platform.Tests.Usage;

public sealed class UsageTests : DatabaseTest
{
    [Test]
    public async Task Each_of_1000_events_sent_3_times_in_parallel_is_counted_once_and_the_summary_equals_the_sum_of_events()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        var random = new Random(7);
        string[] meters = ["gpu_hours", "images", "api_calls"];
        var events = Enumerable.Range(0, 1000)
            .Select(i => new { meter = meters[i % 3], amount = (long)random.Next(0, 1000), idempotency_key = $"evt-{i}-{Guid.NewGuid():N}" })
            .ToList();
        // Three copies, each shuffled differently and cut into four batches of 250: twelve requests at once.
        var batches = Enumerable.Range(0, 3)
            .SelectMany(copy => events.OrderBy(_ => random.Next()).Chunk(250))
            .ToList();
        var responses = await Task.WhenAll(batches.Select(async (batch, i) =>
        {
            using var response = i % 2 == 0
                ? await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", batch)
                : await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new { events = batch });
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
            return await TestApi.ReadAsync(response);
        }));
        Assert.Multiple(() =>
        {
            Assert.That(responses.Sum(r => (int)r["accepted"]!), Is.EqualTo(1000));
            Assert.That(responses.Sum(r => (int)r["duplicates"]!), Is.EqualTo(2000));
            Assert.That(responses.Sum(r => (int)r["received"]!), Is.EqualTo(3000));
        });
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(1000));

        using var summary = await client.GetAsync($"/v1/tenants/{tenantId}/usage");
        await TestApi.ExpectAsync(summary, HttpStatusCode.OK);
        var lines = (await TestApi.ReadAsync(summary))["meters"]!.AsArray().ToDictionary(m => (string)m!["meter"]!, m => m!);
        foreach (var meter in meters)
        {
            var expected = events.Where(e => e.meter == meter).Sum(e => e.amount);
            Assert.That((long)lines[meter]["used"]!, Is.EqualTo(expected), meter);
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT coalesce(sum(amount), 0) FROM usage_events WHERE tenant_id = @t AND meter = @m", ("m", meter)), Is.EqualTo(expected));
        }
        Assert.That((long?)lines["api_calls"]["quota"], Is.EqualTo(10_000));
        Assert.That((decimal?)lines["api_calls"]["percentage"],
            Is.EqualTo(Math.Round(events.Where(e => e.meter == "api_calls").Sum(e => e.amount) * 100m / 10_000, 2, MidpointRounding.AwayFromZero)));
        Assert.That(lines["images"]["quota"], Is.Null);
    }

    [Test]
    public async Task Bad_usage_batches_get_4xx_problem_details_and_store_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/usage/events";

        var tooMany = Enumerable.Range(0, 1001).Select(i => new { meter = "images", amount = 1, idempotency_key = $"k{i}" });
        using (var response = await client.PostAsJsonAsync(url, tooMany))
        {
            var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!["events"], Is.Not.Null);
        }
        using (var response = await client.PostAsJsonAsync(url, new[] { new { meter = "images", amount = 1, idempotency_key = "a" }, new { meter = "images", amount = -5, idempotency_key = "b" } }))
        {
            var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "events[1].amount" }));
        }
        using (var response = await client.PostAsJsonAsync(url, new { events = new object?[] { null, new { meter = "images", amount = 1, idempotency_key = new string('k', 256) } } }))
        {
            var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "events[0]", "events[1].idempotency_key" }));
        }
        using (var response = await client.PostAsync(url, new StringContent("[]", System.Text.Encoding.UTF8, "text/plain")))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        }
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, "\"events\"")))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.PostAsJsonAsync(url, new[] { new { meter = "Bad Meter!", amount = 1, idempotency_key = "c" } }))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.PostAsJsonAsync(url, new[] { new { meter = "images", amount = 1 } }))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.PostAsJsonAsync(url, Array.Empty<object>()))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.PostAsJsonAsync(url, new { meter = "images" }))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, "[{\"meter\": \"images\", \"amount\": \"lots\", \"idempotency_key\": \"d\"}]")))
        {
            // Valid JSON with a value of the wrong kind names the field (ADR 0561).
            var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "events[0].amount" }));
        }
        using (var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, "[{\"meter\": ")))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        }
        using (var response = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=2031-05-01&to=2031-01-01"))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var response = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=yesterday"))
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        }
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(0));
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_rollups WHERE tenant_id = @t"), Is.EqualTo(0));
    }

    [Test]
    public async Task History_rolls_events_up_by_UTC_month_and_filters_by_meter_and_period()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 3, idempotency_key = "jan-1", occurred_at = "2030-01-31T23:59:59Z" },
            new { meter = "gpu_hours", amount = 4, idempotency_key = "feb-1", occurred_at = "2030-02-01T00:00:00Z" },
            new { meter = "gpu_hours", amount = 5, idempotency_key = "feb-2", occurred_at = "2030-02-28T10:00:00+05:00" },
            new { meter = "images", amount = 7, idempotency_key = "feb-3", occurred_at = "2030-02-10T00:00:00Z" },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        using var all = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=2030-01-01T00:00:00Z&to=2030-03-01T00:00:00Z");
        await TestApi.ExpectAsync(all, HttpStatusCode.OK);
        var rows = (await TestApi.ReadAsync(all))["data"]!.AsArray()
            .Select(r => $"{(string)r!["meter"]!}@{DateTimeOffset.Parse((string)r["period_start"]!, System.Globalization.CultureInfo.InvariantCulture):yyyy-MM}={(long)r["used"]!}")
            .ToList();
        Assert.That(rows, Is.EqualTo(new[] { "gpu_hours@2030-01=3", "gpu_hours@2030-02=9", "images@2030-02=7" }));

        using var gpuFeb = await client.GetAsync($"/v1/tenants/{tenantId}/usage/history?from=2030-02-01T00:00:00Z&to=2030-02-01T00:00:00Z&meter=gpu_hours");
        var only = (await TestApi.ReadAsync(gpuFeb))["data"]!.AsArray();
        Assert.That(only, Has.Count.EqualTo(1));
        Assert.That((long?)only[0]!["used"], Is.EqualTo(9));
    }

    [Test]
    public async Task Check_quota_refuses_with_429_when_the_amount_would_pass_the_plan_quota_and_api_calls_are_counted()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var caller = Caller.User(owner.Id);
        await using var scope = TestApi.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => mediator.Send(new RecordApiCalls(tenantId, 199, DateTimeOffset.UtcNow))));
        var line = await mediator.Send(new CheckQuota(caller, tenantId, "api_calls", 50));
        Assert.That(line.Used, Is.EqualTo(9_950));
        Assert.That(line.Quota, Is.EqualTo(10_000));
        var refused = Assert.ThrowsAsync<QuotaExceededException>(() => mediator.Send(new CheckQuota(caller, tenantId, "api_calls", 51)));
        Assert.Multiple(() =>
        {
            Assert.That(refused!.Quota, Is.EqualTo("api_calls"));
            Assert.That(refused.Limit, Is.EqualTo(10_000));
            Assert.That(refused.Current, Is.EqualTo(9_950));
            Assert.That(refused.ResetsAt, Is.GreaterThan(DateTimeOffset.UtcNow));
        });
        Assert.That((await mediator.Send(new CheckQuota(caller, tenantId, "images", 1_000_000))).Quota, Is.Null);
    }

    [Test]
    public async Task Viewers_read_usage_but_cannot_record_it_and_other_tenants_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var stranger = await TestApi.SignUpAsync();
        var batch = new[] { new { meter = "images", amount = 1, idempotency_key = "x" } };

        using (var post = await TestApi.Client(viewer.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", batch))
        {
            await TestApi.ExpectProblemAsync(post, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var read = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/usage"))
        {
            await TestApi.ExpectAsync(read, HttpStatusCode.OK);
        }
        using (var post = await TestApi.Client(stranger.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", batch))
        {
            await TestApi.ExpectProblemAsync(post, HttpStatusCode.NotFound, "not_found");
        }
        using (var read = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenantId}/usage/history"))
        {
            await TestApi.ExpectProblemAsync(read, HttpStatusCode.NotFound, "not_found");
        }
        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM usage_events WHERE tenant_id = @t"), Is.EqualTo(0));
    }
}
