using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Tests.Webhooks;

/// <summary>Proves ADR 0700: a committed event wakes an idle dispatcher (NOTIFY) instead of waiting for its poll, and a process has at most
/// Webhooks:MaxInFlightPerEndpoint requests in flight to one endpoint, whatever other endpoints share its host.</summary>
public sealed class DeliveryWakeupTests : DatabaseTest
{
    [Test]
    [CancelAfter(120_000)]
    public async Task A_committed_event_is_attempted_long_before_the_next_poll()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        // A minute between polls: lane 0 polls once at start, lane 1 not before 15 s; only the wake-up can deliver sooner.
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:PollIntervalMilliseconds"] = "60000" }, jobs: true);
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        await receiver.ConfigureAsync("wake", [secret]);
        await bed.CreateEndpointAsync(tenantId, receiver.Url("wake"), secret);

        var jobs = bed.Services.GetServices<IHostedService>()
            .Where(j => j.GetType().Name is "WebhookDispatchJob" or "WebhookWakeupListenerJob").ToList();
        Assert.That(jobs, Has.Count.EqualTo(2));
        var started = Stopwatch.StartNew();
        foreach (var job in jobs)
        {
            await job.StartAsync(CancellationToken.None);
        }
        try
        {
            // Past lane 0's first round and the listener's start, well before lane 1's first poll (15 s).
            await Task.Delay(TimeSpan.FromSeconds(2));
            var ids = await bed.EmitAsync(tenantId, 1);
            var emitted = started.Elapsed;
            var received = await receiver.WaitForAsync("wake", 1, TimeSpan.FromSeconds(10));
            var arrived = started.Elapsed;

            Assert.Multiple(() =>
            {
                Assert.That(received.Select(r => r.Id), Is.EqualTo(ids));
                Assert.That(arrived - emitted, Is.LessThan(TimeSpan.FromSeconds(10)), "woken by the commit, not by a poll");
                Assert.That(arrived, Is.LessThan(TimeSpan.FromSeconds(14)), "before any other lane's first poll");
                Assert.That(bed.Warnings, Is.Empty);
            });
        }
        finally
        {
            foreach (var job in jobs)
            {
                await job.StopAsync(CancellationToken.None);
            }
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Each_endpoint_has_at_most_MaxInFlightPerEndpoint_requests_in_flight_whatever_shares_its_host()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:MaxInFlightPerEndpoint"] = "2" });
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        // Both endpoints are on the receiver's one host and port: a limit per host would allow 2 requests in flight in all.
        string[] paths = ["pool-a", "pool-b"];
        foreach (var path in paths)
        {
            await receiver.ConfigureAsync(path, [secret], delayMs: 300, recordBodies: false);
            await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        }
        const int events = 8;
        await bed.EmitAsync(tenantId, events);

        // One round leases all 16 deliveries and sends them at once; the limit holds them to 2 per endpoint, each within the timeout (15 s).
        var result = await bed.DrainAsync(limit: 100);
        var stats = await receiver.StatsAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.EqualTo(events * paths.Length));
            Assert.That(stats.MaxInFlightByPath!["pool-a"], Is.EqualTo(2));
            Assert.That(stats.MaxInFlightByPath!["pool-b"], Is.EqualTo(2));
            Assert.That(stats.MaxInFlight, Is.GreaterThan(2), "the limit is per endpoint");
            Assert.That(bed.Warnings, Is.Empty);
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Endpoints_on_one_host_share_at_most_MaxConnectionsPerHost_connections_and_every_delivery_still_succeeds()
    {
        await using var receiver = await ReceiverProcess.StartAsync();
        await using var bed = DeliveryTestBed.Build(new() { ["Webhooks:MaxInFlightPerEndpoint"] = "4", ["Webhooks:MaxConnectionsPerHost"] = "3" });
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var secret = DeliveryTestBed.NewSecret();
        // Two endpoints on the receiver's one host and port may have 4 requests in flight each, 8 in all; the host's pool holds 3 connections.
        string[] paths = ["shared-a", "shared-b"];
        foreach (var path in paths)
        {
            await receiver.ConfigureAsync(path, [secret], delayMs: 200, recordBodies: false);
            await bed.CreateEndpointAsync(tenantId, receiver.Url(path), secret);
        }
        const int events = 6;
        await bed.EmitAsync(tenantId, events);

        var result = await bed.DrainAsync(limit: 100);
        var stats = await receiver.StatsAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.EqualTo(events * paths.Length), "the requests beyond the connections waited for one, within the timeout");
            Assert.That(stats.MaxInFlight, Is.EqualTo(3), "one request per connection, 3 connections to the host");
            Assert.That(bed.Warnings, Is.Empty);
        });
    }
}
