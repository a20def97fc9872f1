using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Usage;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Usage;

/// <summary>Proves POST /quota-checks and its reservations (ADR 0710): the figures, 429 on a hard meter, soft meters always allowed, exactly the last
/// units reserved under 200 parallel checks, holds that ingestion respects, consumption by an event, expiry by time, and the purge.</summary>
public sealed class QuotaReservationTests : DatabaseTest
{
    private static async Task<(HttpClient Client, Guid TenantId)> HardGpuTenantAsync(decimal used)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);
        if (used > 0)
        {
            await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = used, idempotency_key = "seed" });
        }
        return (client, tenantId);
    }

    private static async Task IngestAsync(HttpClient client, Guid tenantId, HttpStatusCode expected, params object[] events)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", events);
        Assert.That(response.StatusCode, Is.EqualTo(expected), await response.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> CheckAsync(HttpClient client, Guid tenantId, object body) =>
        client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", body);

    [Test]
    public async Task A_soft_meter_is_allowed_with_the_figures_and_a_hard_one_refuses_with_429_naming_limit_used_remaining_and_reset()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 4.5m, idempotency_key = "g" });

        using (var soft = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 3 }))
        {
            await TestApi.ExpectAsync(soft, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(soft);
            Assert.Multiple(() =>
            {
                Assert.That((bool?)body["allowed"], Is.True);
                Assert.That((string?)body["policy"], Is.EqualTo("soft"));
                Assert.That((long?)body["limit"], Is.EqualTo(5));
                Assert.That((decimal?)body["used"], Is.EqualTo(4.5m));
                Assert.That((decimal?)body["reserved"], Is.EqualTo(0m));
                Assert.That((decimal?)body["remaining"], Is.EqualTo(0.5m));
                Assert.That(body["reservation_id"], Is.Null);
            });
        }

        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);
        using (var refused = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0.51m }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            var now = DateTimeOffset.UtcNow;
            var reset = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
            Assert.Multiple(() =>
            {
                Assert.That((string?)problem["quota"], Is.EqualTo("gpu_hours"));
                Assert.That((long?)problem["limit"], Is.EqualTo(5));
                Assert.That((decimal?)problem["used"], Is.EqualTo(4.5m));
                Assert.That((decimal?)problem["reserved"], Is.EqualTo(0m));
                Assert.That((decimal?)problem["remaining"], Is.EqualTo(0.5m));
                Assert.That(DateTimeOffset.Parse((string)problem["resets_at"]!, CultureInfo.InvariantCulture), Is.EqualTo(reset));
                Assert.That(refused.Headers.RetryAfter, Is.Not.Null);
            });
        }
        using (var allowed = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0.5m }))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(allowed))["policy"], Is.EqualTo("hard"));
        }
        using (var noQuota = await CheckAsync(client, tenantId, new { meter = "images", amount = 1_000_000, reserve = true }))
        {
            var body = await TestApi.ReadAsync(noQuota);
            Assert.That((bool?)body["allowed"], Is.True);
            Assert.That(body["limit"], Is.Null);
            Assert.That(body["remaining"], Is.Null);
            Assert.That((decimal?)body["reserved"], Is.EqualTo(1_000_000m));
        }
    }

    [Test]
    public async Task Two_hundred_parallel_checks_with_reservations_on_the_last_10_units_allow_exactly_10_and_ingestion_cannot_eat_a_held_unit()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 2.5m); // 10 units of 0.25 left of 5

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0.25m, reserve = true, reserve_seconds = 300 });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(answers.Count(a => a.StatusCode == HttpStatusCode.OK), Is.EqualTo(10));
            Assert.That(answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(190), string.Join("\n", answers.Where(a => a.StatusCode != HttpStatusCode.OK && a.StatusCode != HttpStatusCode.TooManyRequests).Select(a => a.Body).Take(3)));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_reservations WHERE consumed_at IS NULL", tenantId), Is.EqualTo(10));
        });

        // Every unit is held: an event without a reservation is refused, one carrying a reservation consumes it.
        await IngestAsync(client, tenantId, HttpStatusCode.TooManyRequests, new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "plain" });
        var reservationId = (string)System.Text.Json.Nodes.JsonNode.Parse(answers.First(a => a.StatusCode == HttpStatusCode.OK).Body)!["reservation_id"]!;
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "held", reservation_id = reservationId });
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT trim_scale(used)::text FROM usage_rollups WHERE meter = 'gpu_hours'", tenantId), Is.EqualTo("2.75"));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_reservations WHERE consumed_at IS NULL", tenantId), Is.EqualTo(9));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT consumed_by FROM usage_reservations WHERE id = @id", tenantId, ("id", Guid.Parse(reservationId))),
                Is.EqualTo("held"));
        });
        using var figures = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0 });
        var body = await TestApi.ReadAsync(figures);
        Assert.That((decimal?)body["used"], Is.EqualTo(2.75m));
        Assert.That((decimal?)body["reserved"], Is.EqualTo(2.25m));
        Assert.That((decimal?)body["remaining"], Is.EqualTo(0m));
    }

    [Test]
    public async Task An_unconsumed_reservation_expires_by_time_and_the_purge_deletes_old_ones()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 4m);
        using (var held = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 1, reserve = true, reserve_seconds = 1 }))
        {
            await TestApi.ExpectAsync(held, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(held);
            Assert.That((decimal?)body["reserved"], Is.EqualTo(1m));
            Assert.That((decimal?)body["remaining"], Is.EqualTo(0m));
            Assert.That(DateTimeOffset.Parse((string)body["reservation_expires_at"]!, CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow.AddSeconds(1)).Within(TimeSpan.FromSeconds(5)));
        }
        await TestApi.ExpectProblemAsync(await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0.25m }), HttpStatusCode.TooManyRequests, "quota_exceeded");
        await IngestAsync(client, tenantId, HttpStatusCode.TooManyRequests, new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "early" });

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using (var after = await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 1 }))
        {
            await TestApi.ExpectAsync(after, HttpStatusCode.OK);
            Assert.That((decimal?)(await TestApi.ReadAsync(after))["reserved"], Is.EqualTo(0m));
        }
        await IngestAsync(client, tenantId, HttpStatusCode.OK, new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "late" });

        // The purge keeps expired rows for Usage:ReservationRetentionHours (24): backdate this one past it.
        await OwnerSql.ScalarAsync<long>(
            "WITH u AS (UPDATE usage_reservations SET created_at = now() - interval '3 days', expires_at = now() - interval '2 days' RETURNING 1) SELECT count(*) FROM u", tenantId);
        await TestApi.ExpectAsync(await CheckAsync(client, tenantId, new { meter = "gpu_hours", amount = 0.25m, reserve = true }), HttpStatusCode.OK);
        using var services = TestApi.Services.CreateScope();
        var purged = await services.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeUsageReservations());
        Assert.That(purged, Is.GreaterThanOrEqualTo(1));
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_reservations", tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task Keys_need_quota_check_on_the_current_route_viewers_are_refused_other_tenants_get_404_and_bad_input_gets_422()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var body = new { meter = "gpu_hours", amount = 1, reserve = true };
        var checker = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId, permissions: ["quota:check"]);
        var reader = await KeyRunLimitsTests.CreateKeyAsync(owner.Token, tenantId, permissions: ["usage:read"]);
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        var stranger = await TestApi.SignUpAsync();

        using (var current = await TestApi.Client(checker.Secret).PostAsJsonAsync("/v1/tenants/current/quota-checks", body))
        {
            await TestApi.ExpectAsync(current, HttpStatusCode.OK);
            Assert.That((string?)(await TestApi.ReadAsync(current))["reservation_id"], Is.Not.Null);
        }
        await TestApi.ExpectProblemAsync(await TestApi.Client(reader.Secret).PostAsJsonAsync("/v1/tenants/current/quota-checks", body), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await CheckAsync(TestApi.Client(viewer.Token), tenantId, body), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await CheckAsync(TestApi.Client(stranger.Token), tenantId, body), HttpStatusCode.NotFound, "not_found");

        var client = TestApi.Client(owner.Token);
        var url = $"/v1/tenants/{tenantId}/quota-checks";
        foreach (var (json, field) in new[]
        {
            ("""{"meter": "gpu_hours", "amount": "abc"}""", "amount"),
            ("""{"meter": "gpu_hours", "amount": 0.12345}""", "amount"),
            ("""{"meter": "gpu_hours", "amount": -1}""", "amount"),
            ("""{"meter": "gpu_hours"}""", "amount"),
            ("""{"amount": 1}""", "meter"),
            ("""{"meter": "Bad!", "amount": 1}""", "meter"),
            ("""{"meter": "gpu_hours", "amount": 1, "reserve": "yes"}""", "reserve"),
            ("""{"meter": "gpu_hours", "amount": 1, "reserve": true, "reserve_seconds": 0}""", "reserve_seconds"),
            ("""{"meter": "gpu_hours", "amount": 1, "reserve": true, "reserve_seconds": 100000}""", "reserve_seconds"),
            ("""{"meter": "gpu_hours", "amount": 1, "reserve_seconds": 10}""", "reserve_seconds"),
        })
        {
            using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, url, json));
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Does.Contain(field), json);
        }

        // A usage event naming a reservation the tenant does not have, or one of another meter, is 422 naming its field; nothing is written.
        using var images = await CheckAsync(client, tenantId, new { meter = "images", amount = 2, reserve = true });
        var imagesReservation = (string)(await TestApi.ReadAsync(images))["reservation_id"]!;
        foreach (var reservation in new[] { Guid.NewGuid().ToString(), imagesReservation })
        {
            using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
            {
                new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "ok" },
                new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "bad", reservation_id = reservation },
            });
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "events[1].reservation_id" }));
        }
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events", tenantId), Is.EqualTo(0));
    }

    [Test]
    public async Task A_refused_batch_names_each_event_with_its_index_meter_and_reason_and_bad_input_names_the_field()
    {
        var (client, tenantId) = await HardGpuTenantAsync(used: 4.75m);
        var url = $"/v1/tenants/{tenantId}/usage/events";
        // Acceptance is per event (ADR 0770): the images event and the first GPU quarter fit and are stored; the second quarter is refused.
        using (var partly = await client.PostAsJsonAsync(url, new object[]
        {
            new { meter = "images", amount = 1, idempotency_key = "z-img" },
            new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "b" },
            new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "a" },
        }))
        {
            await TestApi.ExpectAsync(partly, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(partly);
            var refused = body["refused"]!.AsArray().Select(e => $"{(int)e!["index"]!}:{(string)e["meter"]!}:{(string)e["reason"]!}").ToList();
            Assert.That(refused, Is.EqualTo(new[] { "2:gpu_hours:quota_exceeded" }));
            Assert.That((int?)body["accepted"], Is.EqualTo(2));
        }
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events", tenantId), Is.EqualTo(3));
        // A batch of which nothing fits is still 429 and names each event; nothing of it is written.
        using (var over = await client.PostAsJsonAsync(url, new object[]
        {
            new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "c" },
            new { meter = "gpu_hours", amount = 0.5m, idempotency_key = "d" },
        }))
        {
            var problem = await TestApi.ExpectProblemAsync(over, HttpStatusCode.TooManyRequests, "quota_exceeded");
            var refused = problem["refused_events"]!.AsArray().Select(e => $"{(int)e!["index"]!}:{(string)e["meter"]!}:{(string)e["reason"]!}").ToList();
            Assert.That(refused, Is.EqualTo(new[] { "0:gpu_hours:quota_exceeded", "1:gpu_hours:quota_exceeded" }));
            Assert.That((int?)problem["accepted"], Is.EqualTo(0));
        }
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM usage_events", tenantId), Is.EqualTo(3));

        using var bad = await client.SendAsync(TestApi.Request(HttpMethod.Post, url,
            """[{"meter":"gpu_hours","amount":0.25,"idempotency_key":"ok"},{"meter":"gpu_hours","amount":"abc","idempotency_key":"x"}]"""));
        var invalid = await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(invalid["errors"]!.AsObject().Select(p => p.Key), Does.Contain("events[1].amount"));
    }
}
