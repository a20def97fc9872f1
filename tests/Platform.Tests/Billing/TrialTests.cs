using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;

namespace Platform.Tests.Billing;

/// <summary>Proves the trial job with a clock the test moves: one reminder per tenant three days before the end under five job copies, and at the end
/// without a subscription the move to the free plan (or the suspension, by configuration) exactly once.</summary>
public sealed class TrialTests : DatabaseTest
{
    [Test]
    public async Task Five_copies_queue_exactly_one_reminder_per_tenant_three_days_before_the_end()
    {
        var start = DateTimeOffset.UtcNow;
        var owners = new List<TestUser>();
        var tenants = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var owner = await TestApi.SignUpAsync();
            owners.Add(owner);
            tenants.Add(await TestApi.CreateTenantAsync(owner));
        }
        var clock = new ManualClock(start.AddDays(10));
        await using var engines = TestEngines.Build(clock: clock);

        var early = await RunCopiesAsync(engines, 5);
        clock.UtcNow = start.AddDays(11).AddHours(1);
        var due = await RunCopiesAsync(engines, 5);
        clock.UtcNow = start.AddDays(12);
        var later = await RunCopiesAsync(engines, 5);

        Assert.Multiple(async () =>
        {
            Assert.That(early.Sum(r => r.RemindersQueued), Is.Zero);
            Assert.That(due.Sum(r => r.RemindersQueued), Is.EqualTo(3));
            Assert.That(later.Sum(r => r.RemindersQueued + r.TrialsEnded), Is.Zero);
            for (var i = 0; i < tenants.Count; i++)
            {
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'email.trial_ending' AND payload->>'to' = @to",
                    tenants[i], ("to", owners[i].Email)), Is.EqualTo(1));
                Assert.That(await FieldAsync(tenants[i], "status"), Is.EqualTo("trial"));
            }
        });
    }

    [Test]
    public async Task At_the_end_without_a_subscription_five_copies_move_the_tenant_to_free_once()
    {
        var start = DateTimeOffset.UtcNow;
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        await using var engines = TestEngines.Build(clock: new ManualClock(start.AddDays(14).AddMinutes(5)));

        var results = await RunCopiesAsync(engines, 5);

        Assert.Multiple(async () =>
        {
            Assert.That(results.Sum(r => r.TrialsEnded), Is.EqualTo(1));
            Assert.That(results.Sum(r => r.RemindersQueued), Is.Zero, "a trial already over gets no reminder");
            Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("free"));
            Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("active"));
            Assert.That(await FieldAsync(tenant, "max_workers"), Is.EqualTo("2"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed' AND actor_type = 'system'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task With_the_suspend_action_the_trial_end_suspends_and_subscribing_lifts_it()
    {
        var start = DateTimeOffset.UtcNow;
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        await using var engines = TestEngines.Build(new() { ["Billing:TrialEndAction"] = "suspend" }, new ManualClock(start.AddDays(15)));

        var results = await RunCopiesAsync(engines, 5);
        var suspendedReason = await FieldAsync(tenant, "suspended_reason");
        using var write = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "Refused" });
        using var subscribe = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" });

        await TestApi.ExpectProblemAsync(write, HttpStatusCode.Forbidden, "tenant_suspended");
        await TestApi.ExpectAsync(subscribe, HttpStatusCode.OK);
        Assert.Multiple(async () =>
        {
            Assert.That(results.Sum(r => r.TrialsEnded), Is.EqualTo(1));
            Assert.That(suspendedReason, Is.EqualTo(BillingLifecycle.TrialEndedReason));
            Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("active"));
            Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("starter"));
            Assert.That(await FieldAsync(tenant, "suspended_reason"), Is.Null);
        });
    }

    [Test]
    public async Task A_tenant_that_subscribed_during_its_trial_gets_no_reminder_and_keeps_its_plan()
    {
        var start = DateTimeOffset.UtcNow;
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        await TestApi.ExpectAsync(await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);
        var clock = new ManualClock(start.AddDays(12));
        await using var engines = TestEngines.Build(clock: clock);

        var reminders = await RunCopiesAsync(engines, 2);
        clock.UtcNow = start.AddDays(15);
        var ends = await RunCopiesAsync(engines, 2);

        Assert.Multiple(async () =>
        {
            Assert.That(reminders.Sum(r => r.RemindersQueued) + ends.Sum(r => r.TrialsEnded), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM outbox_messages WHERE kind = 'email.trial_ending'", tenant), Is.Zero);
            Assert.That(await FieldAsync(tenant, "plan"), Is.EqualTo("professional"));
            Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("active"));
        });
    }

    private static async Task<TrialLifecycleResult[]> RunCopiesAsync(IServiceProvider engines, int copies) =>
        await Task.WhenAll(Enumerable.Range(0, copies).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new RunTrialLifecycle());
        }));

    private static Task<string?> FieldAsync(Guid tenant, string column) =>
        OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM tenants WHERE id = @t", tenant, ("t", tenant));
}
