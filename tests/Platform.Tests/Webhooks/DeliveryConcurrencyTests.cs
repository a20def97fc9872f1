using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Tests.Webhooks;

/// <summary>Proves the delivery guarantees with real processes and hosts on one database: two dispatchers never have one message in flight twice and
/// deliver exactly events x endpoints (+ the receiver's refusals), and a service killed with SIGKILL mid-delivery loses nothing once started again.</summary>
public sealed class DeliveryConcurrencyTests : DatabaseTest
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Two_dispatcher_hosts_deliver_every_event_to_every_endpoint_never_twice_at_once()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        var settings = new Dictionary<string, string?> { ["Webhooks:RetrySchedule"] = "0,0,0,0,0,0,0,0,0,0,0,0", ["Webhooks:MaxConcurrency"] = "32" };
        await using var first = DeliveryTestBed.Build(settings, jobs: true);
        await using var second = DeliveryTestBed.Build(settings, jobs: true);
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        string[] paths = ["a", "b", "c"];
        foreach (var path in paths)
        {
            await receiver.ConfigureAsync(path, [secret], delayMs: 10, fail: path == "a" ? 10 : 0);
            await first.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        }
        const int events = 150;
        var ids = await first.EmitAsync(tenantId, events);

        var jobs = new[] { first, second }.Select(b => b.Services.GetServices<IHostedService>().Single(j => j.GetType().Name == "WebhookDispatchJob")).ToList();
        foreach (var job in jobs)
        {
            await job.StartAsync(CancellationToken.None);
        }
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
            foreach (var job in jobs)
            {
                await job.StopAsync(CancellationToken.None);
            }
        }

        foreach (var warning in first.Warnings.Concat(second.Warnings).Take(20))
        {
            TestContext.Out.WriteLine(warning);
        }
        var stats = await receiver.StatsAsync();
        var received = new Dictionary<string, IReadOnlyList<ReceivedRequest>>();
        foreach (var path in paths)
        {
            received[path] = await receiver.ReceivedAsync(path);
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId),
                Is.EqualTo(events * paths.Length));
            Assert.That(stats.Overlaps, Is.Zero, "no message was in flight twice at once");
            Assert.That(stats.MaxInFlightPerId, Is.EqualTo(1));
            Assert.That(stats.Total, Is.EqualTo(events * paths.Length + 10), "events x endpoints, plus the 10 attempts the receiver refused");
            foreach (var path in paths)
            {
                Assert.That(received[path].Where(r => r.Outcome == "ok").Select(r => r.Id), Is.EquivalentTo(ids), path);
            }
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM webhook_attempts", tenantId), Is.EqualTo(stats.Total), "every attempt is in the log");
            Assert.That(first.Warnings.Concat(second.Warnings), Is.Empty, "no round failed");
        });
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task After_the_service_is_killed_mid_delivery_and_started_again_every_committed_event_arrives_and_duplicates_share_their_webhook_id()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build();
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync("crash", [secret], delayMs: 100);
        await bed.CreateEndpointAsync(tenantId, receiver.Url("crash"), secret);
        const int events = 300;
        var ids = await bed.EmitAsync(tenantId, events);

        using (var service = StartService())
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while ((await receiver.StatsAsync()).Total < 60 && DateTime.UtcNow < until && !service.HasExited)
            {
                await Task.Delay(20);
            }
            Assert.That(service.HasExited, Is.False, "the service runs");
            service.Kill(); // SIGKILL: no shutdown, leases are left as they are
            await service.WaitForExitAsync();
        }
        var beforeRestart = (await receiver.StatsAsync()).Total;
        var inFlight = await OwnerSql.CountAsync(
            "SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'pending' AND attempts > 0 AND leased_until > now()", tenantId);

        IReadOnlyList<ReceivedRequest> received;
        using (var service = StartService())
        {
            var until = DateTime.UtcNow.AddSeconds(120);
            while (await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status <> 'sent'", tenantId) > 0
                   && DateTime.UtcNow < until && !service.HasExited)
            {
                await Task.Delay(100);
            }
            received = await receiver.ReceivedAsync("crash");
            service.Kill();
            await service.WaitForExitAsync();
        }

        TestContext.Out.WriteLine($"received before the restart: {beforeRestart}, leased at the kill: {inFlight}, total: {received.Count}");
        Assert.Multiple(async () =>
        {
            Assert.That(beforeRestart, Is.LessThan(events), "the kill came mid-delivery");
            Assert.That(received.Select(r => r.Id).Distinct(), Is.EquivalentTo(ids), "every committed event arrived, and nothing else");
            Assert.That(received.Select(r => r.Verified[0]), Has.All.True);
            Assert.That(received.Count, Is.GreaterThan(events), "the deliveries in flight at the kill were sent again, under the same webhook-id");
            Assert.That((await receiver.StatsAsync()).Overlaps, Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook' AND status = 'sent'", tenantId), Is.EqualTo(events));
        });
    }

    /// <summary>Starts the API (built by the solution build) as its own process on the test database, with its jobs on and short delivery timeouts.</summary>
    private static Process StartService()
    {
        var dll = ApiDll();
        var start = new ProcessStartInfo("dotnet", [dll, "serve"])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__Platform"] = DatabaseFixture.AppConnectionString;
        start.Environment["ConnectionStrings__PlatformOwner"] = DatabaseFixture.OwnerConnectionString;
        start.Environment["DataProtection__KeyEncryptionKey"] = DatabaseFixture.KeyEncryptionKey;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Platform__RunJobs"] = "true";
        // No start-up warm-up: see ServiceProcess.StartApi.
        start.Environment["Platform__WarmUp"] = "false";
        start.Environment["Seed__Demo"] = "false";
        start.Environment["Webhooks__AllowLoopback"] = "true";
        start.Environment["Webhooks__TimeoutSeconds"] = "2";
        start.Environment["Webhooks__PollIntervalMilliseconds"] = "50";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        // Drain the output so the child never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static string ApiDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Api", "bin", "Release", "net10.0", "Platform.Api.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return Path.Combine(AppContext.BaseDirectory, "Platform.Api.dll");
    }
}
