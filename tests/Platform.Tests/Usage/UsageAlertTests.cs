using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Usage;

namespace Platform.Tests.Usage;

/// <summary>Proves the usage alert emails: one per tenant, meter, month and threshold, queued in the transaction of the usage that crossed it,
/// from event ingestion and from the api_calls flush, exactly once under parallel batches, again in a new month, never for an unlimited quota.</summary>
public sealed class UsageAlertTests : DatabaseTest
{
    private const string AlertsSql = "SELECT count(*) FROM outbox_messages WHERE kind = 'email.usage_alert'";
    private const string NoticesSql = "SELECT coalesce(string_agg(notice, ',' ORDER BY notice), '') FROM billing_notices WHERE notice LIKE 'usage_alert:%'";

    [Test]
    public async Task Crossing_80_then_90_then_100_percent_queues_exactly_three_emails_to_the_first_owner()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SetTokenQuotaAsync(tenantId, 100);
        var client = TestApi.Client(owner.Token);
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

        // 79 (nothing), 80 (80%), 85 (nothing), 95 (90%), 99 (nothing), 100 (100%), 150 (nothing more).
        foreach (var amount in new[] { 79, 1, 5, 10, 4, 1, 50 })
        {
            await PostTokensAsync(client, tenantId, amount);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.EqualTo(3));
            Assert.That(await OwnerSql.ScalarAsync<string>(NoticesSql, tenantId),
                Is.EqualTo($"usage_alert:tokens:{month}:100,usage_alert:tokens:{month}:80,usage_alert:tokens:{month}:90"));
            Assert.That(await OwnerSql.CountAsync(AlertsSql + " AND payload->>'to' = @to", tenantId, ("to", owner.Email)), Is.EqualTo(3));
            foreach (var percent in new[] { 80, 90, 100 })
            {
                Assert.That(await OwnerSql.CountAsync(AlertsSql + " AND payload->>'subject' LIKE @subject", tenantId, ("subject", $"% {percent}% of its tokens quota")),
                    Is.EqualTo(1), $"{percent}%");
            }
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'email.queued' AND new_values->>'kind' = 'email.usage_alert'", tenantId),
                Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Crossing_two_thresholds_in_one_batch_queues_only_the_highest_to_the_billing_email()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SetTokenQuotaAsync(tenantId, 100);
        await OwnerSql.CountAsync("WITH u AS (UPDATE tenants SET billing_email = 'billing@example.com' WHERE id = @t RETURNING 1) SELECT count(*) FROM u",
            tenantId, ("t", tenantId));
        var client = TestApi.Client(owner.Token);

        await PostTokensAsync(client, tenantId, 95);

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync(AlertsSql + " AND payload->>'to' = 'billing@example.com' AND payload->>'subject' LIKE '% 90% of its tokens quota'", tenantId),
                Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Fifty_parallel_batches_crossing_80_percent_together_queue_exactly_one_80_percent_email()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SetTokenQuotaAsync(tenantId, 1_000);
        var client = TestApi.Client(owner.Token);
        await PostTokensAsync(client, tenantId, 700);

        // 700 + 50 x 3 = 850: the batch that takes the total from below 800 to 800 or more alerts, and only it.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => PostTokensAsync(client, tenantId, 3)));

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT used::bigint FROM usage_rollups WHERE meter = 'tokens'", tenantId), Is.EqualTo(850));
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync(AlertsSql + " AND payload->>'subject' LIKE '% 80% of its tokens quota'", tenantId), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task The_api_calls_flush_alerts_once_per_month_and_again_in_a_new_month_but_not_for_a_closed_month()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // api_calls quota 10,000
        var march = new DateTimeOffset(2031, 3, 10, 12, 0, 0, TimeSpan.Zero);
        var april = new DateTimeOffset(2031, 4, 2, 12, 0, 0, TimeSpan.Zero);
        var clock = new ManualClock(march);
        await using var engines = TestEngines.Build(clock: clock);

        await SendAsync(engines, new RecordApiCalls(tenantId, 7_999, march));
        await SendAsync(engines, new RecordApiCalls(tenantId, 1, march));      // 8,000: 80%
        await SendAsync(engines, new RecordApiCalls(tenantId, 500, march));    // 8,500: nothing
        // Parallel flushes of several hosts: 8,500 + 20 x 100 = 10,500 crosses 90% and 100%, each once.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => SendAsync(engines, new RecordApiCalls(tenantId, 100, march))));
        clock.UtcNow = april;
        await SendAsync(engines, new RecordApiCalls(tenantId, 2_000, march));  // a late count for March, closed now: nothing
        await SendAsync(engines, new RecordApiCalls(tenantId, 8_000, april));  // April's 80%

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.EqualTo(4));
            Assert.That(await OwnerSql.ScalarAsync<string>(NoticesSql, tenantId), Is.EqualTo(
                "usage_alert:api_calls:2031-03:100,usage_alert:api_calls:2031-03:80,usage_alert:api_calls:2031-03:90,usage_alert:api_calls:2031-04:80"));
            Assert.That(await OwnerSql.CountAsync("SELECT used::bigint FROM usage_rollups WHERE meter = 'api_calls' AND period_start = '2031-03-01'", tenantId),
                Is.EqualTo(12_500));
        });
    }

    [Test]
    public async Task An_unlimited_quota_or_a_meter_without_quota_never_alerts()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SetTokenQuotaAsync(tenantId, -1);
        var client = TestApi.Client(owner.Token);

        await PostTokensAsync(client, tenantId, 1_000_000_000);
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
            new[] { new { meter = "images", amount = 1_000_000_000L, idempotency_key = Guid.NewGuid().ToString() } }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        // A paying enterprise tenant: a trial's quotas are finite (ADR 0520).
        var enterprise = await TestTenant.New(owner).WithPlan("enterprise").WithStatus("active").CreateAsync();
        await using var engines = TestEngines.Build();
        await SendAsync(engines, new RecordApiCalls(enterprise, 1_000_000_000, DateTimeOffset.UtcNow));

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.Zero);
            Assert.That(await OwnerSql.CountAsync(AlertsSql, enterprise), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM billing_notices", tenantId), Is.Zero);
        });
    }

    [Test]
    public async Task Completing_runs_whose_tokens_cross_80_percent_queues_the_alert_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await SetTokenQuotaAsync(tenantId, 1_000);
        var client = TestApi.Client(owner.Token);

        foreach (var tokens in new[] { 700, 150, 40 }) // 700, 850 (80%), 890
        {
            var run = await Platform.Tests.Runs.Runs.CreateRunAsync(client, tenantId);
            using var done = await Platform.Tests.Runs.Runs.CompleteAsync(client, tenantId, Guid.Parse((string)run["id"]!), tokens);
            await TestApi.ExpectAsync(done, HttpStatusCode.OK);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync(AlertsSql, tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync(AlertsSql + " AND payload->>'subject' LIKE '% 80% of its tokens quota'", tenantId), Is.EqualTo(1));
        });
    }

    [TestCase(0, 79, 100, null)]
    [TestCase(79, 80, 100, 80)]
    [TestCase(80, 89, 100, null)]
    [TestCase(0, 100, 100, 100)]
    [TestCase(85, 95, 100, 90)]
    [TestCase(100, 200, 100, null)]
    [TestCase(7, 8, 9, 80)]
    [TestCase(0, 1_000_000_000, -1, null)]
    [TestCase(0, 1, 0, 100)]
    [TestCase(long.MaxValue - 1, long.MaxValue, long.MaxValue, 100)]
    public void Crossed_gives_the_highest_threshold_newly_reached(long before, long after, long quota, int? expected) =>
        Assert.That(UsageAlerts.Crossed(before, after, quota), Is.EqualTo(expected));

    private static async Task SetTokenQuotaAsync(Guid tenantId, long quota) =>
        await OwnerSql.CountAsync("WITH u AS (UPDATE tenants SET max_tokens_per_month = @q WHERE id = @t RETURNING 1) SELECT count(*) FROM u",
            tenantId, ("q", quota), ("t", tenantId));

    private static async Task PostTokensAsync(HttpClient client, Guid tenantId, long amount)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
            new[] { new { meter = "tokens", amount, idempotency_key = Guid.NewGuid().ToString() } });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static async Task SendAsync(ServiceProvider engines, RecordApiCalls command)
    {
        await using var scope = engines.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }
}
