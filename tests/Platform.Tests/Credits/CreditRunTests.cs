using System.Net;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Credits;
using Platform.Models;
using Platform.Models.Credits;
using RunCalls = Platform.Tests.Runs.Runs;

namespace Platform.Tests.Credits;

/// <summary>Proves that a run of a worker that costs credits is debited in the admission's transaction: exact under concurrency, 402 and nothing written when short.</summary>
public sealed class CreditRunTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_30_of_100_parallel_credit_runs_against_a_balance_of_30_and_writes_nothing_for_the_others()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestTenant.New(owner).WithPlan("free").WithLimits(concurrentRuns: -1, runsPerDay: -1, tokensPerMonth: -1).CreateAsync();
        var opening = await SendAsync(new GetCredits(Caller.System, tenantId));
        await SendAsync(new GrantCredits(Caller.System, tenantId, 30 - opening.Balance, CreditTransactionType.Adjustment, "test-setup"));
        var client = TestApi.Client(owner.Token);

        var outcomes = await RunCalls.CreateManyAsync(client, tenantId, 100, worker: "researcher");

        var admitted = outcomes.Where(o => o.Status == HttpStatusCode.Created).ToList();
        var refused = outcomes.Where(o => o.Status == HttpStatusCode.PaymentRequired).ToList();
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(admitted, Has.Count.EqualTo(30));
            Assert.That(refused, Has.Count.EqualTo(70));
            Assert.That(refused.Select(r => (string?)r.Body["code"]).Distinct(), Is.EqualTo(new[] { "insufficient_credits" }));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT balance FROM credit_accounts WHERE tenant_id = @t"), Is.Zero);
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT coalesce(sum(amount), 0) FROM credit_transactions WHERE tenant_id = @t"), Is.Zero);
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM credit_transactions WHERE tenant_id = @t AND type = 'usage'"), Is.EqualTo(30));
            Assert.That(await RunCalls.ScalarAsync(tenantId,
                "SELECT count(*) FROM credit_transactions c JOIN runs r ON r.tenant_id = c.tenant_id AND c.reference = 'run:' || r.id WHERE c.tenant_id = @t AND c.type = 'usage' AND c.amount = -1"),
                Is.EqualTo(30));
            // Refused admissions rolled back: no run, no slot, no daily count, no audit row of theirs.
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.EqualTo(30));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(30));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT runs_today FROM run_stripe_totals(@t, 'tenant')"), Is.EqualTo(30));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM audit_log WHERE tenant_id = @t AND action = 'run.created'"), Is.EqualTo(30));
        });
    }

    [Test]
    public async Task A_worker_without_a_credit_price_leaves_the_credit_account_untouched()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);

        _ = await RunCalls.CreateRunAsync(client, tenantId, worker: "summarizer");

        Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM credit_transactions WHERE tenant_id = @t"), Is.Zero);
    }

    [Test]
    public async Task A_credit_run_is_refused_with_402_when_the_balance_is_short_and_the_worker_lists_its_price()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free");
        var opening = await SendAsync(new GetCredits(Caller.System, tenantId));
        await SendAsync(new DebitCredits(Caller.System, tenantId, opening.Balance, "test-drain"));
        var client = TestApi.Client(owner.Token);

        using var refused = await client.PostAsync($"/v1/tenants/{tenantId}/runs",
            System.Net.Http.Json.JsonContent.Create(new { worker_id = "researcher", task = "t" }));
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.PaymentRequired, "insufficient_credits");
        var workers = await TestApi.ReadAsync(await client.GetAsync("/v1/workers"));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That((string?)problem["quota"], Is.EqualTo("credits"));
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT count(*) FROM runs WHERE tenant_id = @t"), Is.Zero);
            Assert.That(await RunCalls.ScalarAsync(tenantId, "SELECT active_runs FROM run_stripe_totals(@t, 'tenant')"), Is.Zero);
            Assert.That(workers["data"]!.AsArray().Single(w => (string?)w!["id"] == "researcher")!["credits_per_run"]!.GetValue<long>(), Is.EqualTo(1));
        });
    }

    private static async Task<T> SendAsync<T>(IRequest<T> request)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
