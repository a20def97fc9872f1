using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Drivers.Sessions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Webhooks;
using Platform.Models.Webhooks;

namespace Platform.Tests.Webhooks;

/// <summary>Proves the dispatcher pipeline of ADR 0540: a committed emission NOTIFYs webhook_due once per statement (never for a rollback), the NOTIFY wakes a
/// dispatcher whose poll interval is a minute so the event arrives within seconds, and the batched finisher records every outcome of a parallel load exactly.</summary>
public sealed class DispatcherPipelineTests : DatabaseTest
{
    private static async Task<Guid> TenantAsync() => await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());

    private static IHostedService DispatchJob(DeliveryTestBed bed) =>
        bed.Services.GetServices<IHostedService>().Single(j => j.GetType().Name == "WebhookDispatchJob");

    [Test]
    [CancelAfter(30_000)]
    public async Task A_committed_emission_notifies_webhook_due_once_per_statement_and_a_rolled_back_one_not_at_all()
    {
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TenantAsync();
        foreach (var path in new[] { "a", "b", "c" })
        {
            await bed.CreateEndpointAsync(tenantId, $"http://127.0.0.1:9/{path}", DeliveryTestBed.NewSecret());
        }
        await using var listen = new NpgsqlConnection(DatabaseFixture.AppConnectionString);
        await listen.OpenAsync();
        var notified = new List<string>();
        listen.Notification += (_, e) => notified.Add(e.Channel);
        await using (var command = new NpgsqlCommand($"LISTEN {IWebhookDeliveryDriver.DueChannel}", listen))
        {
            await command.ExecuteNonQueryAsync();
        }

        var sessions = bed.Services.GetRequiredService<IDbSessionFactory>();
        var emitter = bed.Services.GetRequiredService<WebhookEvents>();
        var driver = bed.Services.GetRequiredService<IWebhookEventDriver>();
        var example = WebhookEventTypes.Find(WebhookEventTypes.RunCompleted)!.Example;
        await using (var session = await sessions.OpenAsync(tenantId, null, CancellationToken.None))
        {
            Assert.That(await driver.EmitAsync(session, emitter.Create(tenantId, WebhookEventTypes.RunCompleted, example), CancellationToken.None), Is.EqualTo(3));
            // Not committed: disposing rolls back.
        }
        await listen.WaitAsync(TimeSpan.FromMilliseconds(500));
        Assert.That(notified, Is.Empty, "a rolled-back emission wakes nobody");

        await using (var session = await sessions.OpenAsync(tenantId, null, CancellationToken.None))
        {
            Assert.That(await driver.EmitAsync(session, emitter.Create(tenantId, WebhookEventTypes.RunCompleted, example), CancellationToken.None), Is.EqualTo(3));
            await session.CommitAsync(CancellationToken.None);
        }
        var until = DateTime.UtcNow.AddSeconds(5);
        while (notified.Count == 0 && DateTime.UtcNow < until)
        {
            await listen.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
        await listen.WaitAsync(TimeSpan.FromMilliseconds(300)); // any second notification would be here by now
        Assert.That(notified, Is.EqualTo(new[] { IWebhookDeliveryDriver.DueChannel }), "one statement of three deliveries, one notification");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task The_notify_wakes_an_idle_dispatcher_so_events_arrive_within_seconds_though_it_polls_once_a_minute()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:PollIntervalMilliseconds"] = "60000" }, jobs: true);
        var tenantId = await TenantAsync();
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync("wake", [secret]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url("wake"), secret);
        var job = DispatchJob(bed);
        await job.StartAsync(CancellationToken.None);
        try
        {
            // Wait until the dispatcher listens (and its start-up claims are over), so that only a notification can wake it.
            await using (var app = new NpgsqlConnection(DatabaseFixture.AppConnectionString))
            {
                await app.OpenAsync();
                await using var listeners = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE strpos(query, @listen) > 0 AND pid <> pg_backend_pid()", app);
                listeners.Parameters.AddWithValue("listen", ChannelListenerCommand());
                var until = DateTime.UtcNow.AddSeconds(20);
                while ((long)(await listeners.ExecuteScalarAsync())! == 0 && DateTime.UtcNow < until)
                {
                    await Task.Delay(50);
                }
                Assert.That((long)(await listeners.ExecuteScalarAsync())!, Is.GreaterThan(0), "the dispatcher listens on webhook_due");
            }
            await Task.Delay(500);

            var waits = new List<TimeSpan>();
            for (var i = 1; i <= 3; i++)
            {
                var clock = Stopwatch.StartNew();
                await bed.EmitAsync(tenantId);
                var received = await receiver.WaitForAsync("wake", i, TimeSpan.FromSeconds(20));
                waits.Add(clock.Elapsed);
                Assert.That(received, Has.Count.EqualTo(i), $"event {i} arrived");
                await Task.Delay(300);
            }
            TestContext.Out.WriteLine("emission to arrival: " + string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:F0} ms")));
            Assert.That(waits, Has.All.LessThan(TimeSpan.FromSeconds(5)), "each arrival came long before the 60 s poll");
            Assert.That(await OwnerSql.ScalarAsync<double>(
                "SELECT max(extract(epoch FROM a.attempted_at - e.created_at))::float8 FROM webhook_attempts a JOIN webhook_events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id",
                tenantId), Is.LessThan(5.0));
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task The_batched_finisher_records_every_outcome_of_a_parallel_load_exactly_once()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        // Small claims and many senders: outcomes of many claims meet in each finish batch.
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:RetrySchedule"] = "0,0,0,0,0,0,0,0,0,0,0,0", ["Webhooks:MaxConcurrency"] = "64", ["Webhooks:BatchSize"] = "16",
        };
        await using var bed = DeliveryTestBed.Build(settings, jobs: true);
        var tenantId = await TenantAsync();
        var secret = DeliveryTestBed.NewSecret();
        string[] paths = ["f1", "f2", "f3", "f4"];
        foreach (var path in paths)
        {
            await receiver.ConfigureAsync(path, [secret], fail: path == "f1" ? 30 : 0, delayMs: 2);
            await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        }
        const int events = 250;
        var ids = await bed.EmitAsync(tenantId, events);
        var job = DispatchJob(bed);
        await job.StartAsync(CancellationToken.None);
        try
        {
            var until = DateTime.UtcNow.AddSeconds(90);
            while (await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status <> 'sent'", tenantId) > 0 && DateTime.UtcNow < until)
            {
                await Task.Delay(100);
            }
        }
        finally
        {
            await job.StopAsync(CancellationToken.None);
        }

        var stats = await receiver.StatsAsync();
        var f1 = await receiver.ReceivedAsync("f1");
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId),
                Is.EqualTo(events * paths.Length));
            Assert.That(stats.Total, Is.EqualTo(events * paths.Length + 30), "events x endpoints, plus the 30 refused attempts");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM webhook_attempts", tenantId), Is.EqualTo(stats.Total), "every attempt is in the log");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM webhook_attempts WHERE NOT succeeded AND status_code = 500", tenantId), Is.EqualTo(30));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM webhook_attempts WHERE succeeded AND status_code = 204", tenantId), Is.EqualTo(events * paths.Length));
            Assert.That(await OwnerSql.CountAsync("SELECT coalesce(sum(attempts), 0) FROM outbox_messages WHERE kind = 'webhook'", tenantId), Is.EqualTo(stats.Total),
                "every lease taken has its outcome recorded");
            Assert.That(await OwnerSql.CountAsync(
                "SELECT count(*) FROM outbox_messages o WHERE o.kind = 'webhook' AND o.attempts <> (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = o.id)",
                tenantId), Is.Zero, "each delivery's attempt count matches its log");
            Assert.That(f1.Where(r => r.Outcome == "ok").Select(r => r.Id), Is.EquivalentTo(ids));
            Assert.That(stats.Overlaps, Is.Zero);
            Assert.That(await OwnerSql.ScalarAsync<DateTime?>("SELECT failing_since FROM webhook_endpoints WHERE url LIKE '%/f1'", tenantId), Is.Null,
                "the successes after the failures cleared failing_since");
            Assert.That(bed.Warnings, Is.Empty);
        });
    }

    private static string ChannelListenerCommand() => $"LISTEN \"{IWebhookDeliveryDriver.DueChannel}\"";
}
