using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Engines.Credits;
using Platform.Models;
using Platform.Models.Credits;

namespace Platform.Tests.Credits;

/// <summary>Proves the monthly credit grants (ADR 0650): many copies of the grant job start each tenant's month exactly once, the unused part of last
/// month's grant expires when configured (purchases never do), and an upgrade within the month grants only the difference, once.</summary>
public sealed class CreditGrantTests : DatabaseTest
{
    private static readonly DateTimeOffset January = new(2027, 1, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset February = new(2027, 2, 1, 0, 5, 0, TimeSpan.Zero);

    [Test]
    public async Task Eight_job_copies_grant_each_tenant_its_plan_credits_exactly_once_per_month()
    {
        var owner = await TestApi.SignUpAsync();
        var pro = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var free = await TestApi.CreateTenantAsync(owner, plan: "free");
        var untouched = await TestApi.CreateTenantAsync(owner, plan: "free");
        var clock = new ManualClock(January);
        await using var engines = TestEngines.Build(clock: clock);
        await SendAsync(engines, new GetCredits(Caller.System, pro));
        await SendAsync(engines, new GetCredits(Caller.System, free));
        var januaryAgain = await RunCopiesAsync(engines, 8);

        clock.UtcNow = February;
        var february = await RunCopiesAsync(engines, 8);
        var februaryAgain = await RunCopiesAsync(engines, 8);

        Assert.Multiple(async () =>
        {
            // In January only the tenant that never opened its account was due.
            Assert.That(januaryAgain.Sum(), Is.EqualTo(1));
            Assert.That(february.Sum(), Is.EqualTo(3));
            Assert.That(februaryAgain.Sum(), Is.Zero);
            Assert.That(await GrantRowsAsync(pro, "period:2027-02"), Is.EqualTo(1));
            Assert.That(await GrantRowsAsync(free, "period:2027-02"), Is.EqualTo(1));
            Assert.That(await GrantRowsAsync(untouched, "period:2027-02"), Is.EqualTo(1));
            Assert.That(await GrantRowsAsync(untouched, "period:2027-01"), Is.EqualTo(1));
            Assert.That(await BalanceAsync(pro), Is.EqualTo(400));
            Assert.That(await BalanceAsync(free), Is.EqualTo(20));
            foreach (var tenant in new[] { pro, free, untouched })
            {
                Assert.That(await LedgerSumAsync(tenant), Is.EqualTo(await BalanceAsync(tenant)));
                Assert.That(await OwnerSql.ScalarAsync<string>("SELECT last_grant_period FROM credit_accounts", tenant), Is.EqualTo("2027-02"));
            }
        });
    }

    [Test]
    public async Task With_expiry_on_the_unspent_grant_expires_at_the_next_month_and_purchased_credits_stay()
    {
        var owner = await TestApi.SignUpAsync();
        var expiring = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var rolling = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var clock = new ManualClock(January);
        await using var withExpiry = TestEngines.Build(new() { ["Credits:ExpireUnusedAtPeriodEnd"] = "true" }, clock);
        await using var withoutExpiry = TestEngines.Build(clock: clock);
        foreach (var (engines, tenant) in new[] { (withExpiry, expiring), (withoutExpiry, rolling) })
        {
            await SendAsync(engines, new GetCredits(Caller.System, tenant));
            await SendAsync(engines, new GrantCredits(Caller.System, tenant, 100, CreditTransactionType.Purchase, "purchase:test"));
            await SendAsync(engines, new DebitCredits(Caller.System, tenant, 50, "run-1"));
        }

        clock.UtcNow = February;
        // The rolling tenant's month starts on first need (a read) under the default settings; the job, with expiry on, then starts the other one's.
        await SendAsync(withoutExpiry, new GetCredits(Caller.System, rolling));
        var started = await SendAsync(withExpiry, new GrantMonthlyCredits());

        Assert.Multiple(async () =>
        {
            Assert.That(started, Is.EqualTo(1));
            // 200 granted, 50 spent from the grant first: 150 expire, the 100 purchased stay, then February's 200 arrive.
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT amount FROM credit_transactions WHERE type = 'expiry' AND reference = 'expiry:2027-01'", expiring), Is.EqualTo(-150));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT balance_after FROM credit_transactions WHERE type = 'expiry'", expiring), Is.EqualTo(100));
            Assert.That(await BalanceAsync(expiring), Is.EqualTo(300));
            Assert.That(await LedgerSumAsync(expiring), Is.EqualTo(300));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'credits.expired'", expiring), Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM credit_transactions WHERE type = 'expiry'", rolling), Is.Zero);
            Assert.That(await BalanceAsync(rolling), Is.EqualTo(450));
            Assert.That(await LedgerSumAsync(rolling), Is.EqualTo(450));
        });
    }

    [Test]
    public async Task Upgrading_within_the_month_grants_the_difference_once_and_a_downgrade_takes_nothing_back()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"), HttpStatusCode.OK);

        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var afterUpgrade = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var reads = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.GetAsync($"/v1/tenants/{tenant}/credits")));
        var ledger = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits/transactions"));

        Assert.Multiple(async () =>
        {
            Assert.That((long?)afterUpgrade["balance"], Is.EqualTo(200));
            Assert.That((long?)afterUpgrade["monthly_grant"], Is.EqualTo(200));
            Assert.That(reads.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(ledger["data"]!.AsArray().Select(r => ((string?)r!["type"], (long?)r["amount"])),
                Is.EqualTo(new (string?, long?)[] { ("plan_upgrade", 190), ("quota_monthly", 10) }));
            Assert.That(await BalanceAsync(tenant), Is.EqualTo(200));
            Assert.That(await LedgerSumAsync(tenant), Is.EqualTo(200));
        });
    }

    private static async Task<int[]> RunCopiesAsync(IServiceProvider engines, int copies) =>
        await Task.WhenAll(Enumerable.Range(0, copies).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new GrantMonthlyCredits());
        }));

    private static async Task<T> SendAsync<T>(IServiceProvider engines, IRequest<T> request)
    {
        using var scope = engines.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    private static Task<long> GrantRowsAsync(Guid tenant, string reference) =>
        OwnerSql.CountAsync("SELECT count(*) FROM credit_transactions WHERE type = 'quota_monthly' AND reference = @r", tenant, ("r", reference));

    private static Task<long> BalanceAsync(Guid tenant) => OwnerSql.ScalarAsync<long>("SELECT balance FROM credit_accounts", tenant);

    private static Task<long> LedgerSumAsync(Guid tenant) => OwnerSql.ScalarAsync<long>("SELECT coalesce(sum(amount), 0)::bigint FROM credit_transactions", tenant);
}
