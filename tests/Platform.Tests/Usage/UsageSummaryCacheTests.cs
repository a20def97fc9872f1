using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;
using Platform.Engines.Audit;
using Platform.Engines.Billing;
using Platform.Engines.Credits;
using Platform.Engines.Gdpr;
using Platform.Engines.Invitations;
using Platform.Engines.Members;
using Platform.Engines.Plans;
using Platform.Engines.Support;
using Platform.Engines.Tenants;
using Platform.Engines.Usage;
using Platform.Models;
using Platform.Models.Usage;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Usage;

/// <summary>The in-memory usage summary of API keys (ADR 0164): one read per miss, evictions win over running reads, and over HTTP a key
/// reads its own instance's writes at once and another instance's within the time to live.</summary>
public sealed class UsageSummaryCacheTests : DatabaseTest
{
    private static readonly DateOnly Period = new(2026, 11, 1);

    private static UsageSummaryCache.Filled Filled(long used) => new(null!, new UsageSummary(
        new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        [new MeterUsage("images", used, null, null, default, default)]));

    [Test]
    public async Task Parallel_misses_of_one_tenant_share_one_read()
    {
        var cache = new UsageSummaryCache(new UsageOptions());
        var tenant = Guid.NewGuid();
        var reads = 0;
        var release = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 50).Select(_ => Task.Run(() => cache.GetOrFillAsync(tenant, Period, async () =>
        {
            Interlocked.Increment(ref reads);
            await release.Task;
            return Filled(7);
        }, CancellationToken.None))).ToList();
        await Task.Delay(100);
        release.SetResult();
        var results = await Task.WhenAll(callers);
        Assert.Multiple(() =>
        {
            Assert.That(reads, Is.EqualTo(1));
            Assert.That(results.Select(r => r.Summary).Distinct().Count(), Is.EqualTo(1));
            Assert.That(cache.TryGet(tenant, Period, out _, out var held), Is.True);
            Assert.That(held.Meters[0].Used, Is.EqualTo(7));
        });
    }

    [Test]
    public async Task An_eviction_detaches_a_running_read_and_keeps_its_result_out()
    {
        var cache = new UsageSummaryCache(new UsageOptions());
        var tenant = Guid.NewGuid();
        var before = new TaskCompletionSource();
        var first = cache.GetOrFillAsync(tenant, Period, async () =>
        {
            await before.Task;
            return Filled(1);
        }, CancellationToken.None);
        // A write of the tenant committed and evicted while the first read ran: the next caller must not join that read.
        cache.Evict(tenant);
        var secondReads = 0;
        var second = await cache.GetOrFillAsync(tenant, Period, () =>
        {
            secondReads++;
            return Task.FromResult(Filled(2));
        }, CancellationToken.None);
        before.SetResult();
        var firstResult = await first;
        Assert.Multiple(() =>
        {
            Assert.That(secondReads, Is.EqualTo(1));
            Assert.That(second.Summary.Meters[0].Used, Is.EqualTo(2));
            Assert.That(firstResult.Summary.Meters[0].Used, Is.EqualTo(1));
            Assert.That(cache.TryGet(tenant, Period, out _, out var held), Is.True);
            Assert.That(held.Meters[0].Used, Is.EqualTo(2), "the read from before the eviction must not replace the one after it");
        });
    }

    [Test]
    public async Task A_zero_time_to_live_reads_every_time_and_holds_nothing()
    {
        var cache = new UsageSummaryCache(new UsageOptions { SummaryCacheMilliseconds = 0 });
        var tenant = Guid.NewGuid();
        var reads = 0;
        for (var i = 0; i < 3; i++)
        {
            await cache.GetOrFillAsync(tenant, Period, () =>
            {
                reads++;
                return Task.FromResult(Filled(i));
            }, CancellationToken.None);
        }
        Assert.That(reads, Is.EqualTo(3));
        Assert.That(cache.Count, Is.Zero);
    }

    [Test]
    public async Task Reads_of_a_tenant_leave_its_held_summary_and_writes_evict_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await using var engines = TestEngines.Build();
        var cache = engines.GetRequiredService<UsageSummaryCache>();
        var period = DateOnly.FromDateTime(Meters.MonthStart(DateTimeOffset.UtcNow).UtcDateTime);
        cache.Store(tenantId, period, null!, Filled(1).Summary, cache.Generation);

        await SendAsync(engines, new CheckQuota(Caller.System, tenantId, "images", 1));
        await SendAsync(engines, new GetUsageHistory(Caller.System, tenantId, null, null, null));
        var heldAfterReads = cache.TryGet(tenantId, period, out _, out _);
        await SendAsync(engines, new RecordUsage(Caller.System, tenantId, [new UsageEventInput("images", 1, "evict-1", null)]));
        var heldAfterWrite = cache.TryGet(tenantId, period, out _, out _);

        Assert.Multiple(() =>
        {
            Assert.That(heldAfterReads, Is.True);
            Assert.That(heldAfterWrite, Is.False);
        });
    }

    [Test]
    public async Task The_reads_that_once_forgot_their_marker_leave_the_held_summary()
    {
        // Before every tenant command had to say read or write (ADR 0412), these evicted the summary on every call.
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        await using var engines = TestEngines.Build();
        var cache = engines.GetRequiredService<UsageSummaryCache>();
        var period = DateOnly.FromDateTime(Meters.MonthStart(DateTimeOffset.UtcNow).UtcDateTime);
        cache.Store(tenantId, period, null!, Filled(1).Summary, cache.Generation);
        var caller = Caller.User(owner.Id);

        await SendAsync(engines, new GetTenant(caller, tenantId));
        await SendAsync(engines, new GetEntitlements(caller, tenantId));
        await SendAsync(engines, new ListMembers(caller, tenantId, null, 10));
        await SendAsync(engines, new ListApiKeys(caller, tenantId, null, 10));
        await SendAsync(engines, new ListInvitations(caller, tenantId, null, null, 10));
        await SendAsync(engines, new GetBillingSummary(caller, tenantId));
        await SendAsync(engines, new ListInvoices(caller, tenantId, null, null, 10));
        await SendAsync(engines, new ListCreditTransactions(caller, tenantId, null, 10));
        await SendAsync(engines, new ListAuditLog(caller, tenantId, null, null, null, null, null, 10));
        await SendAsync(engines, new ListSupportTickets(caller, tenantId, null, null, 10));
        await SendAsync(engines, new ExportTenant(caller, tenantId));
        var heldAfterReads = cache.TryGet(tenantId, period, out _, out _);
        // GetCredits adds the month's plan grant on first need: a write, so it evicts.
        await SendAsync(engines, new GetCredits(caller, tenantId));
        var heldAfterWrite = cache.TryGet(tenantId, period, out _, out _);

        Assert.Multiple(() =>
        {
            Assert.That(heldAfterReads, Is.True);
            Assert.That(heldAfterWrite, Is.False);
        });
    }

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    [Test]
    public async Task A_key_sees_its_instances_writes_at_once_and_another_instances_within_the_time_to_live()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var key = await Keys.CreateAsync(owner.Token, tenantId, ["usage:read", "usage:write"]);
        var client = TestApi.Client(key.Secret);
        var url = $"/v1/tenants/{tenantId}/usage";
        Assert.That(await ImagesAsync(client, url), Is.EqualTo(0));

        // Through this instance: the ingestion evicts the tenant, so the next read has it.
        using (var response = await client.PostAsJsonAsync($"{url}/events", new[] { new { meter = "images", amount = 5, idempotency_key = "a" } }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        Assert.That(await ImagesAsync(client, url), Is.EqualTo(5));

        // Through another instance: this one's entry may serve the old total, but only for the time to live (1 s by default).
        await using var other = Keys.NewHost();
        using (var response = await other.Client(key.Secret).PostAsJsonAsync($"{url}/events", new[] { new { meter = "images", amount = 3, idempotency_key = "b" } }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
        var seenAfter = System.Diagnostics.Stopwatch.StartNew();
        while (await ImagesAsync(client, url) != 8)
        {
            Assert.That(seenAfter.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "the other instance's write never showed");
            await Task.Delay(50);
        }

        // The key's own checks run on a held tenant too: a key without usage:read is refused.
        var writer = await Keys.CreateAsync(owner.Token, tenantId, ["usage:write"]);
        using (var refused = await TestApi.Client(writer.Secret).GetAsync(url))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }
    }

    private static async Task<long> ImagesAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        return body["meters"]!.AsArray().Where(m => (string)m!["meter"]! == "images").Select(m => (long)m!["used"]!).SingleOrDefault();
    }
}
