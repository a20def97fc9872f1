using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Webhooks;

namespace Platform.Tests.ScaleOut;

/// <summary>Jobs do each unit of work once across real Worker processes on one database (ADR 0663): two Workers deliver every webhook to every endpoint
/// exactly once and never in flight twice, apply a subscription's period end once, and purge each due tenant once while both trim expired rows.</summary>
[NonParallelizable]
public sealed class JobsOnceTests : DatabaseTest
{
    [Test]
    [CancelAfter(240_000)]
    public async Task Two_worker_processes_deliver_each_webhook_to_each_endpoint_once(CancellationToken cancellationToken)
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        string[] paths = ["p1", "p2"];
        foreach (var path in paths)
        {
            await receiver.ConfigureAsync(path, [secret], delayMs: 5);
            await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        }
        const int events = 120;
        var ids = await bed.EmitAsync(tenantId, events);
        var settings = new Dictionary<string, string>
        {
            ["Webhooks__AllowLoopback"] = "true",
            ["Webhooks__PollIntervalMilliseconds"] = "50",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        await using var first = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        await using var second = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        var deadline = Stopwatch.StartNew();
        while (await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status <> 'sent'", tenantId) > 0
               && deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            Assert.That(first.HasExited || second.HasExited, Is.False, first.Output + "\n" + second.Output);
            await Task.Delay(200, cancellationToken);
        }
        // A second delivery of anything would arrive within a few more polls.
        await Task.Delay(1500, cancellationToken);

        var stats = await receiver.StatsAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId),
                Is.EqualTo(events * paths.Length), "every delivery is done");
            Assert.That(stats.Total, Is.EqualTo(events * paths.Length), "each event reached each endpoint exactly once");
            Assert.That(stats.Overlaps, Is.Zero, "no message was in flight twice at once");
            foreach (var path in paths)
            {
                Assert.That((await receiver.ReceivedAsync(path)).Select(r => r.Id), Is.EquivalentTo(ids), path);
            }
        });
    }

    [Test]
    [CancelAfter(240_000)]
    public async Task Two_worker_processes_apply_a_due_period_end_once(CancellationToken cancellationToken)
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = "professional", billing_cycle = "monthly" }, cancellationToken), HttpStatusCode.OK);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/subscription", new { plan = "starter", billing_cycle = "monthly" }, cancellationToken), HttpStatusCode.OK);
        // The pending downgrade falls due a minute ago: the next tick of any Worker applies it.
        var end = await OwnerSql.ScalarAsync<DateTime>(
            """
            UPDATE subscriptions SET current_period_start = date_trunc('second', now()) - interval '1 month 1 minute',
                                     current_period_end = date_trunc('second', now()) - interval '1 minute'
            RETURNING current_period_end
            """, tenantId);
        var settings = new Dictionary<string, string>
        {
            ["Billing__JobIntervalSeconds"] = "1",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        await using var first = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        await using var second = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        var deadline = Stopwatch.StartNew();
        while (await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.period_ended'", tenantId) == 0
               && deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            Assert.That(first.HasExited || second.HasExited, Is.False, first.Output + "\n" + second.Output);
            await Task.Delay(200, cancellationToken);
        }
        // Both Workers tick every second: give each several more chances to apply it again.
        await Task.Delay(4000, cancellationToken);

        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.period_ended'", tenantId), Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT plan FROM subscriptions", tenantId), Is.EqualTo("starter"));
            Assert.That(await OwnerSql.ScalarAsync<object>("SELECT pending_plan FROM subscriptions", tenantId), Is.Null);
            Assert.That(await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_start FROM subscriptions", tenantId), Is.EqualTo(end), "rolled from the due end");
            Assert.That(await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_end FROM subscriptions", tenantId), Is.EqualTo(end.AddMonths(1)), "rolled once, not twice");
        });
    }

    [Test]
    [CancelAfter(240_000)]
    public async Task Two_worker_processes_purge_each_deleted_tenant_once_and_trim_expired_rows(CancellationToken cancellationToken)
    {
        var owner = await TestApi.SignUpAsync();
        var due = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            var doomed = await TestApi.CreateTenantAsync(owner);
            await Invitations.InvitationApiTests.InviteAsync(owner, doomed, $"once{i}@example.test");
            using var delete = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{doomed}", cancellationToken);
            await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
            await OwnerSql.ScalarAsync<object>("UPDATE tenants SET deleted_at = now() - interval '40 days' WHERE id = @t", doomed, ("t", doomed));
            due.Add(doomed);
        }
        var live = await TestApi.CreateTenantAsync(owner, plan: "free"); // retention_days 7
        var (old, recent) = (Guid.NewGuid(), Guid.NewGuid());
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO runs (tenant_id, id, worker_id, task, status, attempt, actor_type, started_at)
            VALUES (@t, @old, 'summarizer', 'x', 'succeeded', 1, 'system', now() - interval '8 days'),
                   (@t, @recent, 'summarizer', 'x', 'succeeded', 1, 'system', now() - interval '1 day')
            """, live, ("t", live), ("old", old), ("recent", recent));
        var settings = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Platform.Engines.Gdpr"] = "Information",
        };

        // Both Workers run the retention job as they start (and then hourly), so their purges race for the same tenants.
        await using var first = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        await using var second = ServiceProcess.StartWorker(AppContext.BaseDirectory, settings);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            Assert.That(first.HasExited || second.HasExited, Is.False, first.Output + "\n" + second.Output);
            var left = 0L;
            foreach (var tenantId in due)
            {
                left += await OwnerSql.CountAsync("SELECT count(*) FROM tenants WHERE id = @t", tenantId, ("t", tenantId));
            }
            if (left == 0 && await OwnerSql.CountAsync("SELECT count(*) FROM runs WHERE id = @old", live, ("old", old)) == 0)
            {
                break;
            }
            await Task.Delay(200, cancellationToken);
        }
        // Let both finish the tick they are in, so a second purge of anything would be in the logs.
        await Task.Delay(2000, cancellationToken);

        var logs = first.Output + "\n" + second.Output;
        Assert.Multiple(async () =>
        {
            foreach (var tenantId in due)
            {
                Assert.That(await OwnerSql.CountAsync("SELECT (SELECT count(*) FROM tenants WHERE id = @t) + (SELECT count(*) FROM invitations)", tenantId, ("t", tenantId)),
                    Is.Zero, $"tenant {tenantId} purged");
                Assert.That(CountOccurrences(logs, $"Purged deleted tenant {tenantId}"), Is.EqualTo(1), $"tenant {tenantId} purged by exactly one Worker");
            }
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs WHERE id = @old", live, ("old", old)), Is.Zero, "the run past the plan's retention is trimmed");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM runs WHERE id = @recent", live, ("recent", recent)), Is.EqualTo(1), "the recent run is kept");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM tenants WHERE id = @t AND deleted_at IS NULL", live, ("t", live)), Is.EqualTo(1), "the live tenant is kept");
            Assert.That(logs, Does.Not.Contain("Retention: the purge failed"), "neither Worker's purge failed on the other's work");
        });
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
