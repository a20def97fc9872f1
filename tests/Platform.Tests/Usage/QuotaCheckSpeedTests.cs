using System.Net;
using System.Net.Http.Json;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Usage;

/// <summary>Proves the fast paths of POST /quota-checks (ADR 0765): a plain check takes no lock (it answers while a transaction holds the meter's lock),
/// an API key's plain check sees this instance's own ingestion and reservations at once, another instance's within the time to live, and a hold's
/// expiry at the expiry; a hold on a soft meter is not queued behind the meter's lock, a hold on a hard one is.</summary>
public sealed class QuotaCheckSpeedTests : DatabaseTest
{
    private static async Task<(HttpClient Owner, HttpClient Key, string Secret, Guid TenantId)> HardGpuTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PutAsJsonAsync($"/v1/tenants/{tenantId}/usage/policies/gpu_hours", new { policy = "hard" }), HttpStatusCode.OK);
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["quota:check", "usage:write"]);
        return (client, TestApi.Client(key.Secret), key.Secret, tenantId);
    }

    private static async Task<(decimal Used, decimal Reserved)> FiguresAsync(HttpClient client, Guid tenantId, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 0 });
        await TestApi.ExpectAsync(response, expected);
        var body = await TestApi.ReadAsync(response);
        return ((decimal)body["used"]!, (decimal)body["reserved"]!);
    }

    private static async Task<HttpResponseMessage> ReserveAsync(HttpClient client, Guid tenantId, string meter, decimal amount, int seconds = 300) =>
        await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter, amount, reserve = true, reserve_seconds = seconds });

    [Test]
    public async Task A_keys_plain_check_sees_its_instances_writes_at_once_another_instances_within_the_time_to_live_and_expiry_at_the_expiry()
    {
        var (_, key, secret, tenantId) = await HardGpuTenantAsync();
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((0m, 0m)));

        // Through this instance: ingestion (a tenant write) and a reservation (which evicts the figures) are seen by the very next check.
        await TestApi.ExpectAsync(await key.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount = 1.5m, idempotency_key = "a" } }),
            HttpStatusCode.OK);
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((1.5m, 0m)));
        await TestApi.ExpectAsync(await ReserveAsync(key, tenantId, "gpu_hours", 2m), HttpStatusCode.OK);
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((1.5m, 2m)));
        using (var refused = await key.PostAsJsonAsync($"/v1/tenants/{tenantId}/quota-checks", new { meter = "gpu_hours", amount = 1.75m }))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.That((decimal?)problem["remaining"], Is.EqualTo(1.5m));
        }

        // Through another instance: this one's held figures may be old, but only for the time to live (1 s by default).
        await using (var other = Keys.NewHost())
        {
            var otherKey = other.Client(secret);
            await TestApi.ExpectAsync(await otherKey.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
                new[] { new { meter = "gpu_hours", amount = 0.25m, idempotency_key = "b" } }), HttpStatusCode.OK);
            await TestApi.ExpectAsync(await ReserveAsync(otherKey, tenantId, "gpu_hours", 0.5m), HttpStatusCode.OK);
        }
        var seenAfter = System.Diagnostics.Stopwatch.StartNew();
        while (await FiguresAsync(key, tenantId) != (1.75m, 2.5m))
        {
            Assert.That(seenAfter.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "the other instance's writes never showed");
            await Task.Delay(50);
        }

        // A hold counted by the held figures stops counting at its expiry, not a time to live later.
        await TestApi.ExpectAsync(await ReserveAsync(key, tenantId, "gpu_hours", 0.25m, seconds: 1), HttpStatusCode.OK);
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((1.75m, 2.75m)));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((1.75m, 2.5m)));
    }

    [Test]
    public async Task Plain_checks_and_holds_on_a_soft_meter_do_not_wait_for_the_meters_lock_and_a_hold_on_a_hard_meter_does()
    {
        var (owner, key, _, tenantId) = await HardGpuTenantAsync();
        await using var locker = await TenantScope.OwnerAsync(tenantId);
        await using (var lockCommand = locker.Command("SELECT pg_advisory_xact_lock(hashtextextended(@t::text || '/' || 'gpu_hours', 640))", ("t", tenantId)))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }
        await using (var lockCommand = locker.Command("SELECT pg_advisory_xact_lock(hashtextextended(@t::text || '/' || 'images', 640))", ("t", tenantId)))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        var quick = TimeSpan.FromSeconds(10);
        // Plain checks of a user and of a key, and a hold of a soft meter, answer while the locks are held.
        Assert.That(await FiguresAsync(owner, tenantId).WaitAsync(quick), Is.EqualTo((0m, 0m)));
        Assert.That(await FiguresAsync(key, tenantId).WaitAsync(quick), Is.EqualTo((0m, 0m)));
        using (var soft = await ReserveAsync(key, tenantId, "images", 3).WaitAsync(quick))
        {
            await TestApi.ExpectAsync(soft, HttpStatusCode.OK);
        }
        // A hold of the hard meter queues behind the lock and gets through once it is released.
        var hard = ReserveAsync(key, tenantId, "gpu_hours", 1m);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.That(hard.IsCompleted, Is.False, "a hold on a hard meter must pass under the meter's lock");
        await locker.CommitAsync();
        using var held = await hard.WaitAsync(quick);
        await TestApi.ExpectAsync(held, HttpStatusCode.OK);
        Assert.That(await FiguresAsync(key, tenantId), Is.EqualTo((0m, 1m)));
    }

    [Test]
    public async Task Two_hundred_parallel_holds_split_over_two_instances_on_the_last_10_units_allow_exactly_10()
    {
        var (owner, key, secret, tenantId) = await HardGpuTenantAsync();
        await TestApi.ExpectAsync(await owner.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new[] { new { meter = "gpu_hours", amount = 2.5m, idempotency_key = "seed" } }),
            HttpStatusCode.OK); // 10 units of 0.25 left of 5
        await using var other = Keys.NewHost();
        var otherKey = other.Client(secret);

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await ReserveAsync(i % 2 == 0 ? key : otherKey, tenantId, "gpu_hours", 0.25m);
            return response.StatusCode;
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(answers.Count(a => a == HttpStatusCode.OK), Is.EqualTo(10));
            Assert.That(answers.Count(a => a == HttpStatusCode.TooManyRequests), Is.EqualTo(190));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT trim_scale(sum(amount))::text FROM usage_reservations WHERE consumed_at IS NULL", tenantId),
                Is.EqualTo("2.5"));
        });
        // Both instances' keys now see every unit held (each evicted its figures on its own holds; the other's within the time to live).
        var seenAfter = System.Diagnostics.Stopwatch.StartNew();
        while (await FiguresAsync(key, tenantId) != (2.5m, 2.5m))
        {
            Assert.That(seenAfter.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "the other instance's holds never showed");
            await Task.Delay(50);
        }
    }
}
