using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Engines.Credits;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;

namespace Platform.Tests.Credits;

/// <summary>Proves the credits ledger: the balance never goes negative under concurrency, grants and purchases land once, and the ledger is append-only.</summary>
public sealed class CreditsTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_500_of_1000_concurrent_debits_against_a_balance_of_500()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var opening = await SendAsync(new GetCredits(Caller.System, tenant));
        await SendAsync(new GrantCredits(Caller.System, tenant, 500 - opening.Balance, CreditTransactionType.Adjustment, "test-setup"));

        // All 1,000 start at once; at most 80 hold a pooled connection at a time (the pool has 100), as behind a real API.
        using var inFlight = new SemaphoreSlim(80);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            await inFlight.WaitAsync();
            try
            {
                await SendAsync(new DebitCredits(Caller.System, tenant, 1, $"run-{i}"));
                return "ok";
            }
            catch (QuotaExceededException e)
            {
                return e.Code;
            }
            finally
            {
                inFlight.Release();
            }
        }));
        TestContext.Out.WriteLine($"1,000 concurrent debits took {clock.ElapsedMilliseconds} ms");

        var account = await SendAsync(new GetCredits(Caller.System, tenant));
        var (ledgerSum, usageRows, negativeBalances) = await LedgerFactsAsync(tenant);
        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Count(o => o == "ok"), Is.EqualTo(500));
            Assert.That(outcomes.Count(o => o == "insufficient_credits"), Is.EqualTo(500));
            Assert.That(account.Balance, Is.Zero);
            Assert.That(ledgerSum, Is.EqualTo(account.Balance));
            Assert.That(usageRows, Is.EqualTo(500));
            Assert.That(negativeBalances, Is.Zero);
        });
    }

    [Test]
    public async Task The_plan_grant_arrives_once_per_month_and_is_in_the_ledger()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var client = TestApi.Client(owner.Token);

        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync($"/v1/tenants/{tenant}/credits")));
        foreach (var read in reads)
        {
            await TestApi.ExpectAsync(read, HttpStatusCode.OK);
        }
        var body = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var ledger = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits/transactions"));
        Assert.Multiple(() =>
        {
            Assert.That((long?)body["balance"], Is.EqualTo(200));
            Assert.That((long?)body["monthly_grant"], Is.EqualTo(200));
            Assert.That(body["packs"]!.AsArray().Select(p => (long?)p!["price_cents"]), Is.EqualTo(new long?[] { 200, 500, 700 }));
            Assert.That(ledger["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That((string?)ledger["data"]![0]!["type"], Is.EqualTo("quota_monthly"));
            Assert.That((long?)ledger["data"]![0]!["balance_after"], Is.EqualTo(200));
        });
    }

    [Test]
    public async Task An_owner_buys_a_pack_offline_and_it_is_credited_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        // A EUR tenant pays the pack's euro price (ADR 0777).
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_currency = 'eur' WHERE id = @t", tenant, ("t", tenant));
        var client = TestApi.Client(owner.Token);

        using var bought = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_300" });
        await TestApi.ExpectAsync(bought, HttpStatusCode.Created);
        var purchase = await TestApi.ReadAsync(bought);
        var account = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var ledger = (await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits/transactions")))["data"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That((string?)purchase["status"], Is.EqualTo("succeeded"));
            Assert.That((long?)purchase["amount_cents"], Is.EqualTo(500));
            Assert.That((string?)purchase["currency"], Is.EqualTo("eur"));
            Assert.That((long?)account["balance"], Is.EqualTo(310));
            Assert.That(ledger.Select(t => (string?)t!["type"]), Is.EqualTo(new[] { "purchase", "quota_monthly" }));
            Assert.That(ledger.Sum(t => (long)t!["amount"]!), Is.EqualTo(310));
        });
    }

    [Test]
    public async Task A_USD_tenant_pays_a_pack_in_dollars_and_buying_it_fixes_no_currency()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);

        using var bought = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_300" });
        await TestApi.ExpectAsync(bought, HttpStatusCode.Created);
        var purchase = await TestApi.ReadAsync(bought);
        var account = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var pack = account["packs"]!.AsArray().Single(p => (string?)p!["id"] == "credits_300")!;
        Assert.Multiple(async () =>
        {
            Assert.That((long?)purchase["amount_cents"], Is.EqualTo(550), "the pack's dollar price, not the euro number");
            Assert.That((string?)purchase["currency"], Is.EqualTo("usd"));
            Assert.That((long?)account["balance"], Is.EqualTo(310));
            Assert.That(pack["prices"]!.AsArray().Select(p => ((string?)p!["currency"], (long?)p["price_cents"])),
                Is.EqualTo(new[] { ((string?)"eur", (long?)500), ("usd", 550) }));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", tenant, ("t", tenant)), Is.Null,
                "a pack is a one-off payment: the first subscription still chooses the currency");
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT amount_cents FROM credit_purchases WHERE tenant_id = @t", tenant, ("t", tenant)), Is.EqualTo(550));
        });
    }

    [Test]
    public async Task Purchases_need_an_owner_and_a_known_pack_and_other_tenants_get_404()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var admin = await TestApi.MemberAsync(tenant, "admin");
        var viewer = await TestApi.MemberAsync(tenant, "viewer");
        var stranger = await TestApi.SignUpAsync();

        using var byAdmin = await TestApi.Client(admin.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_100" });
        await TestApi.ExpectProblemAsync(byAdmin, HttpStatusCode.Forbidden, "forbidden");
        using var unknown = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_7" });
        var problem = await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["pack"], Is.Not.Null);
        using var missing = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { });
        await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var byViewer = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenant}/credits");
        await TestApi.ExpectProblemAsync(byViewer, HttpStatusCode.Forbidden, "forbidden");
        using var byStranger = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenant}/credits/transactions");
        await TestApi.ExpectProblemAsync(byStranger, HttpStatusCode.NotFound, "not_found");
        using var badCursor = await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/credits/transactions?cursor=nope");
        await TestApi.ExpectProblemAsync(badCursor, HttpStatusCode.UnprocessableEntity, "validation_failed");

        var account = await SendAsync(new GetCredits(Caller.System, tenant));
        Assert.That(account.Balance, Is.EqualTo(10));
    }

    [Test]
    public async Task A_short_debit_is_refused_with_insufficient_credits_and_changes_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");

        var error = Assert.ThrowsAsync<QuotaExceededException>(() => SendAsync(new DebitCredits(Caller.System, tenant, 11, "run-big")));

        Assert.That(error!.Code, Is.EqualTo("insufficient_credits"));
        Assert.That(error.Current, Is.EqualTo(10));
        Assert.That((await SendAsync(new GetCredits(Caller.System, tenant))).Balance, Is.EqualTo(10));
        Assert.That((await LedgerFactsAsync(tenant)).UsageRows, Is.Zero);
    }

    [Test]
    public async Task The_same_run_reference_is_debited_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                await SendAsync(new DebitCredits(Caller.System, tenant, 2, "run-same"));
                return "ok";
            }
            catch (ConflictException e)
            {
                return e.Code;
            }
        }));

        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Count(o => o == "ok"), Is.EqualTo(1));
            Assert.That(outcomes.Count(o => o == "duplicate_reference"), Is.EqualTo(19));
        });
        Assert.That((await SendAsync(new GetCredits(Caller.System, tenant))).Balance, Is.EqualTo(8));
    }

    [Test]
    public async Task Users_cannot_grant_credits_to_themselves()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");

        Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(new GrantCredits(Caller.User(owner.Id), tenant, 1000, CreditTransactionType.Adjustment, "gift")));

        Assert.That((await SendAsync(new GetCredits(Caller.System, tenant))).Balance, Is.EqualTo(10));
    }

    [Test]
    public async Task The_ledger_refuses_update_and_delete_even_for_the_owner_role()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await SendAsync(new GetCredits(Caller.System, tenant));

        await using var scope = await TenantScope.OwnerAsync(tenant);
        await using var update = scope.Command("UPDATE credit_transactions SET amount = 1000000");
        var error = Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
        Assert.That(error!.SqlState, Is.EqualTo("42501"));
    }

    private static async Task<T> SendAsync<T>(IRequest<T> request)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    private static async Task<(long LedgerSum, long UsageRows, long NegativeBalances)> LedgerFactsAsync(Guid tenant)
    {
        await using var scope = await TenantScope.AppAsync(tenant);
        await using var facts = scope.Command(
            "SELECT coalesce(sum(amount), 0)::bigint, count(*) FILTER (WHERE type = 'usage'), count(*) FILTER (WHERE balance_after < 0) FROM credit_transactions");
        await using var reader = await facts.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
