using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;

namespace Platform.Tests.Billing;

/// <summary>Proves the offline period end: the job applies a pending downgrade or cancellation at current_period_end exactly once under five copies,
/// rolls the period, and a change of billing cycle is refused.</summary>
public sealed class PlanChangeOfflineTests : DatabaseTest
{
    [Test]
    public async Task Five_job_copies_apply_a_pending_downgrade_once_at_the_period_end_and_roll_the_period()
    {
        var (tenant, client) = await SubscribedAsync();
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var oldEnd = await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_end FROM subscriptions", tenant);
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(20));
        await using var engines = TestEngines.Build(clock: clock);

        var early = await RunCopiesAsync(engines);
        clock.UtcNow = new DateTimeOffset(oldEnd, TimeSpan.Zero).AddMinutes(1);
        var due = await RunCopiesAsync(engines);
        var again = await RunCopiesAsync(engines);

        Assert.Multiple(async () =>
        {
            Assert.That(early.Sum(), Is.Zero);
            Assert.That(due.Sum(), Is.EqualTo(1));
            Assert.That(again.Sum(), Is.Zero);
            Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("starter"));
            Assert.That(await FieldAsync(tenant, "max_workers"), Is.EqualTo("5"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT plan FROM subscriptions", tenant), Is.EqualTo("starter"));
            Assert.That(await OwnerSql.ScalarAsync<object>("SELECT pending_plan FROM subscriptions", tenant), Is.Null);
            Assert.That(await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_start FROM subscriptions", tenant), Is.EqualTo(oldEnd));
            Assert.That(await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_end FROM subscriptions", tenant), Is.EqualTo(oldEnd.AddMonths(1)));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.period_ended'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_cancellation_at_the_period_end_ends_the_subscription_there_and_moves_the_tenant_to_free()
    {
        var (tenant, client) = await SubscribedAsync();
        await TestApi.ExpectAsync(await client.DeleteAsync($"/v1/tenants/{tenant}/subscription?at_period_end=true"), HttpStatusCode.OK);
        var end = await OwnerSql.ScalarAsync<DateTime>("SELECT current_period_end FROM subscriptions", tenant);
        await using var engines = TestEngines.Build(clock: new ManualClock(new DateTimeOffset(end, TimeSpan.Zero).AddSeconds(1)));

        var changed = await RunCopiesAsync(engines);

        Assert.Multiple(async () =>
        {
            Assert.That(changed.Sum(), Is.EqualTo(1));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions", tenant), Is.EqualTo("canceled"));
            Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("free"));
            Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task Changing_the_billing_cycle_is_refused_and_changes_nothing()
    {
        var (tenant, client) = await SubscribedAsync();

        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "enterprise", billing_cycle = "annual" });

        await TestApi.ExpectProblemAsync(response, HttpStatusCode.Conflict, "billing_cycle_change_not_supported");
        Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("professional"));
    }

    private static async Task<(Guid Tenant, HttpClient Client)> SubscribedAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);
        return (tenant, client);
    }

    private static async Task<int[]> RunCopiesAsync(IServiceProvider engines) =>
        await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ApplyPeriodEnds());
        }));

    private static Task<string?> FieldAsync(Guid tenant, string column) =>
        OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM tenants WHERE id = @t", tenant, ("t", tenant));
}
