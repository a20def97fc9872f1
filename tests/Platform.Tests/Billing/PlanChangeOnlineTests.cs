using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;

namespace Platform.Tests.Billing;

/// <summary>Proves plan changes and cancellation online against the Stripe fake: the Stripe call, its parameters and an idempotency key derived from our records,
/// then the tenant's state (an upgrade now, a downgrade at the period end, a cancellation now or at the period end).</summary>
public sealed class PlanChangeOnlineTests : OnlineBillingTest
{
    [Test]
    public async Task An_upgrade_moves_the_Stripe_price_with_prorations_and_applies_now()
    {
        var s = await SubscribedTenantAsync();
        var ourId = await OurIdAsync(s);

        using var response = await s.Client.PostAsJsonAsync($"/v1/tenants/{s.Tenant}/subscription", new { plan = "enterprise", billing_cycle = "monthly" });

        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var update = Stripe.Requests.Single(r => r.Method == "POST" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId);
        Assert.Multiple(async () =>
        {
            Assert.That(Stripe.Requests.Count(r => r.Method == "GET" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId), Is.EqualTo(1));
            Assert.That(update.IdempotencyKey, Is.EqualTo($"subscription-{ourId}-change-1-upgrade-enterprise"));
            Assert.That(update.Form["items[0][id]"], Is.EqualTo("si_" + s.StripeSubscriptionId));
            Assert.That(update.Form["items[0][price]"], Is.EqualTo(EnterpriseMonthly));
            Assert.That(update.Form["proration_behavior"], Is.EqualTo("create_prorations"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("enterprise"));
            Assert.That(await TenantFieldAsync(s.Tenant, "max_workers"), Is.EqualTo("-1"));
        });
    }

    [Test]
    public async Task Ten_parallel_upgrade_requests_change_the_plan_once_and_call_Stripe_once()
    {
        var s = await SubscribedTenantAsync();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await s.Client.PostAsJsonAsync($"/v1/tenants/{s.Tenant}/subscription", new { plan = "enterprise", billing_cycle = "monthly" });
            return response.StatusCode;
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(statuses.Count(c => c == HttpStatusCode.OK), Is.EqualTo(1));
            Assert.That(statuses.Count(c => c == HttpStatusCode.Conflict), Is.EqualTo(9));
            Assert.That(Stripe.Requests.Count(r => r.Method == "POST" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId), Is.EqualTo(1));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "change_seq"), Is.EqualTo("1"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'subscription.changed'"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task A_downgrade_moves_the_Stripe_price_without_proration_and_waits_for_the_period_to_roll()
    {
        var s = await SubscribedTenantAsync();
        var ourId = await OurIdAsync(s);

        var downgraded = await TestApi.ReadAsync(await s.Client.PostAsJsonAsync($"/v1/tenants/{s.Tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }));
        // Stripe reports the lower price inside the same period: the tenant keeps what it paid for.
        var samePeriod = await DeliverAsync(SubscriptionEvent("evt_same", "customer.subscription.updated", 60, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active", price: StarterMonthly));
        var planInPeriod = await TenantFieldAsync(s.Tenant, "plan");
        // Stripe renews into the next period at the lower price: now it applies.
        var rolled = await DeliverAsync(SubscriptionEvent("evt_roll", "customer.subscription.updated", 32 * 86_400, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active",
            price: StarterMonthly, periodStart: 32 * 86_400, periodEnd: 62 * 86_400));

        var update = Stripe.Requests.Single(r => r.Method == "POST" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId);
        Assert.Multiple(async () =>
        {
            Assert.That(update.IdempotencyKey, Is.EqualTo($"subscription-{ourId}-change-1-downgrade-starter"));
            Assert.That(update.Form["items[0][price]"], Is.EqualTo(StarterMonthly));
            Assert.That(update.Form["proration_behavior"], Is.EqualTo("none"));
            Assert.That((string?)downgraded["plan"], Is.EqualTo("professional"));
            Assert.That((string?)downgraded["pending_plan"], Is.EqualTo("starter"));
            Assert.That(samePeriod, Is.EqualTo("processed"));
            Assert.That(planInPeriod, Is.EqualTo("professional"));
            Assert.That(rolled, Is.EqualTo("processed"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("starter"));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "pending_plan"), Is.Null);
        });
    }

    [Test]
    public async Task The_period_end_job_applies_a_pending_online_downgrade_when_Stripe_is_late()
    {
        var s = await SubscribedTenantAsync();
        await TestApi.ExpectAsync(await s.Client.PostAsJsonAsync($"/v1/tenants/{s.Tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" }), HttpStatusCode.OK);
        await using var engines = TestEngines.Build(clock: new ManualClock(DateTimeOffset.UtcNow.AddMonths(1).AddMinutes(5)));

        var changed = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ApplyPeriodEnds());
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(changed.Sum(), Is.EqualTo(1));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("starter"));
            Assert.That(Stripe.Requests.Count(r => r.Path.StartsWith("/v1/subscriptions/", StringComparison.Ordinal) && r.Method != "GET"), Is.EqualTo(1),
                "Stripe already holds the lower price; the job calls nothing");
        });
    }

    [Test]
    public async Task Cancelling_at_the_period_end_then_now_calls_Stripe_with_keys_from_our_records()
    {
        var s = await SubscribedTenantAsync();
        var ourId = await OurIdAsync(s);

        var flagged = await TestApi.ReadAsync(await s.Client.DeleteAsync($"/v1/tenants/{s.Tenant}/subscription?at_period_end=true"));
        var planWhileFlagged = await TenantFieldAsync(s.Tenant, "plan");
        var canceled = await TestApi.ReadAsync(await s.Client.DeleteAsync($"/v1/tenants/{s.Tenant}/subscription"));
        var lateDeletion = await DeliverAsync(SubscriptionEvent("evt_del", "customer.subscription.deleted", 100, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "canceled"));

        var flag = Stripe.Requests.Single(r => r.Method == "POST" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId);
        var delete = Stripe.Requests.Single(r => r.Method == "DELETE");
        Assert.Multiple(async () =>
        {
            Assert.That(flag.IdempotencyKey, Is.EqualTo($"subscription-{ourId}-change-1-cancel-at-period-end"));
            Assert.That(flag.Form["cancel_at_period_end"], Is.EqualTo("true"));
            Assert.That((bool?)flagged["cancel_at_period_end"], Is.True);
            Assert.That(planWhileFlagged, Is.EqualTo("professional"));
            Assert.That(delete.Path, Is.EqualTo("/v1/subscriptions/" + s.StripeSubscriptionId));
            Assert.That(delete.IdempotencyKey, Is.EqualTo($"subscription-{ourId}-cancel"));
            Assert.That((string?)canceled["status"], Is.EqualTo("canceled"));
            Assert.That(lateDeletion, Is.EqualTo("stale"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("free"));
        });
    }

    [Test]
    public async Task Choosing_the_current_plan_again_withdraws_a_cancellation_in_Stripe()
    {
        var s = await SubscribedTenantAsync();
        var ourId = await OurIdAsync(s);
        await TestApi.ExpectAsync(await s.Client.DeleteAsync($"/v1/tenants/{s.Tenant}/subscription?at_period_end=true"), HttpStatusCode.OK);

        var resumed = await TestApi.ReadAsync(await s.Client.PostAsJsonAsync($"/v1/tenants/{s.Tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }));

        var updates = Stripe.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/subscriptions/" + s.StripeSubscriptionId).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(updates.Select(u => u.IdempotencyKey), Is.EqualTo(new[]
            {
                $"subscription-{ourId}-change-1-cancel-at-period-end", $"subscription-{ourId}-change-2-resume",
            }));
            Assert.That(updates[1].Form["cancel_at_period_end"], Is.EqualTo("false"));
            Assert.That((bool?)resumed["cancel_at_period_end"], Is.False);
        });
    }

    private static async Task<string> OurIdAsync(Subscribed s) =>
        (await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "id"))!;
}
