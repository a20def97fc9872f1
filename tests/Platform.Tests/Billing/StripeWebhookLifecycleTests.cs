using System.Net;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Engines.Tenants;
using Platform.Models;

namespace Platform.Tests.Billing;

/// <summary>Proves the subscription webhooks: each event type replayed ten times has one effect, events delivered out of order end in the state of the
/// newest one (an older update never resurrects a deleted subscription), the tenant is found from metadata or its Stripe customer, and a bad signature changes nothing.</summary>
public sealed class StripeWebhookLifecycleTests : OnlineBillingTest
{
    [Test]
    public async Task Every_event_type_replayed_ten_times_applies_once()
    {
        var s = await SubscribedTenantAsync(billingEmail: "billing@example.com");
        var events = new[]
        {
            SubscriptionEvent("evt_created", "customer.subscription.created", 10, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active"),
            SubscriptionEvent("evt_updated", "customer.subscription.updated", 20, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active", price: EnterpriseMonthly),
            InvoiceEvent("evt_failed", "invoice.payment_failed", 30, "in_1", s.StripeSubscriptionId, s.CustomerId, s.Tenant),
            InvoiceEvent("evt_paid", "invoice.paid", 40, "in_1", s.StripeSubscriptionId, s.CustomerId, s.Tenant),
            CheckoutEvent("evt_checkout", 50, "cs_1", s.CustomerId, s.StripeSubscriptionId, s.Tenant),
            SubscriptionEvent("evt_deleted", "customer.subscription.deleted", 60, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "canceled", price: EnterpriseMonthly),
        };

        foreach (var payload in events)
        {
            var outcomes = await DeliverTenTimesAsync(payload);
            Assert.Multiple(() =>
            {
                Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1), payload);
                Assert.That(outcomes.Count(o => o == "duplicate"), Is.EqualTo(9), payload);
            });
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM stripe_events"), Is.EqualTo(6));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'subscription.synced'"), Is.EqualTo(5));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'billing.checkout_completed'"), Is.EqualTo(1));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM outbox_messages WHERE kind = 'email.payment_failed'"), Is.EqualTo(1));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "status"), Is.EqualTo("canceled"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("free"));
            Assert.That(await TenantFieldAsync(s.Tenant, "status"), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task An_older_update_delivered_after_the_deletion_does_not_resurrect_the_subscription()
    {
        var s = await SubscribedTenantAsync();
        var created = SubscriptionEvent("evt_c", "customer.subscription.created", 10, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active");
        var updated = SubscriptionEvent("evt_u", "customer.subscription.updated", 20, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active", price: EnterpriseMonthly);
        var deleted = SubscriptionEvent("evt_d", "customer.subscription.deleted", 30, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "canceled", price: EnterpriseMonthly);

        var outcomes = new List<string?>();
        foreach (var payload in new[] { deleted, updated, created })
        {
            outcomes.AddRange(await DeliverTenTimesAsync(payload));
        }

        Assert.Multiple(async () =>
        {
            Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(outcomes.Count(o => o == "stale"), Is.EqualTo(2));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "status"), Is.EqualTo("canceled"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM subscriptions WHERE status <> 'canceled'"), Is.Zero);
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("free"));
            Assert.That(await TenantFieldAsync(s.Tenant, "max_workers"), Is.EqualTo("2"));
        });
    }

    [TestCase(new[] { 0, 1, 2, 3 })]
    [TestCase(new[] { 3, 2, 1, 0 })]
    [TestCase(new[] { 2, 0, 3, 1 })]
    [TestCase(new[] { 1, 3, 0, 2 })]
    public async Task Events_in_any_order_end_in_the_state_of_the_newest(int[] order)
    {
        var s = await SubscribedTenantAsync(billingEmail: "billing@example.com");
        var events = new[]
        {
            SubscriptionEvent("evt_1", "customer.subscription.updated", 10, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "active", price: StarterMonthly),
            InvoiceEvent("evt_2", "invoice.payment_failed", 20, "in_7", s.StripeSubscriptionId, s.CustomerId, s.Tenant),
            SubscriptionEvent("evt_3", "customer.subscription.updated", 30, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "past_due", price: EnterpriseMonthly),
            InvoiceEvent("evt_4", "invoice.paid", 40, "in_7", s.StripeSubscriptionId, s.CustomerId, s.Tenant),
        };

        foreach (var index in order)
        {
            await DeliverTenTimesAsync(events[index]);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "status"), Is.EqualTo("active"));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "past_due_since"), Is.Null);
            Assert.That(await TenantFieldAsync(s.Tenant, "status"), Is.EqualTo("active"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM stripe_events"), Is.EqualTo(4));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM outbox_messages WHERE kind = 'email.payment_failed'"), Is.AtMost(1));
        });
        // The plan is the newest subscription state's (evt_3), the status the newest status's (evt_4), whatever the order.
        Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("enterprise"));
    }

    [Test]
    public async Task A_failed_payment_makes_the_tenant_past_due_with_one_email_per_invoice_and_payment_makes_it_active()
    {
        var s = await SubscribedTenantAsync(billingEmail: "billing@example.com");

        await DeliverTenTimesAsync(InvoiceEvent("evt_f1", "invoice.payment_failed", 10, "in_9", s.StripeSubscriptionId, s.CustomerId, s.Tenant));
        // Stripe's retry of the same invoice fails again: a new event, the same invoice, no second email.
        await DeliverTenTimesAsync(InvoiceEvent("evt_f2", "invoice.payment_failed", 20, "in_9", s.StripeSubscriptionId, s.CustomerId, s.Tenant));
        var pastDue = await TestApi.ReadAsync(await s.Client.GetAsync($"/v1/tenants/{s.Tenant}/billing"));
        using var write = await s.Client.PatchAsync($"/v1/tenants/{s.Tenant}", JsonContent("{\"name\":\"Still writable\"}"));
        var emails = await CountAsync(s.Tenant, "SELECT count(*) FROM outbox_messages WHERE kind = 'email.payment_failed' AND payload->>'to' = 'billing@example.com'");
        var sinceFirstFailure = await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "extract(epoch FROM past_due_since)::bigint");

        await DeliverTenTimesAsync(InvoiceEvent("evt_p", "invoice.paid", 30, "in_9", s.StripeSubscriptionId, s.CustomerId, s.Tenant));

        Assert.Multiple(async () =>
        {
            Assert.That((string?)pastDue["status"], Is.EqualTo("past_due"));
            Assert.That((string?)pastDue["subscription"]!["status"], Is.EqualTo("past_due"));
            Assert.That(write.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a past_due tenant keeps writing");
            Assert.That(emails, Is.EqualTo(1));
            Assert.That(sinceFirstFailure, Is.EqualTo(Unix(10).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(await TenantFieldAsync(s.Tenant, "status"), Is.EqualTo("active"));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "status"), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task A_failure_report_older_than_the_payment_changes_nothing_and_sends_no_email()
    {
        var s = await SubscribedTenantAsync(billingEmail: "billing@example.com");

        await DeliverTenTimesAsync(InvoiceEvent("evt_p", "invoice.paid", 20, "in_3", s.StripeSubscriptionId, s.CustomerId, s.Tenant));
        var outcomes = await DeliverTenTimesAsync(InvoiceEvent("evt_f", "invoice.payment_failed", 10, "in_3", s.StripeSubscriptionId, s.CustomerId, s.Tenant));

        Assert.Multiple(async () =>
        {
            Assert.That(outcomes.Count(o => o == "stale"), Is.EqualTo(1));
            Assert.That(await TenantFieldAsync(s.Tenant, "status"), Is.EqualTo("active"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM outbox_messages WHERE kind = 'email.payment_failed'"), Is.Zero);
        });
    }

    [Test]
    public async Task A_checkout_links_the_customer_so_a_later_event_without_metadata_finds_the_tenant()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");

        var before = await DeliverAsync(SubscriptionEvent("evt_early", "customer.subscription.created", 5, "sub_co", "cus_co", null, "active"));
        var checkout = await DeliverTenTimesAsync(CheckoutEvent("evt_co", 10, "cs_9", "cus_co", "sub_co", tenant));
        var created = await DeliverTenTimesAsync(SubscriptionEvent("evt_sc", "customer.subscription.created", 11, "sub_co", "cus_co", null, "active"));

        Assert.Multiple(async () =>
        {
            Assert.That(before, Is.EqualTo("ignored"), "no tenant can be told yet");
            Assert.That(checkout.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(created.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(await CountAsync(tenant, "SELECT count(*) FROM stripe_customers WHERE customer_id = 'cus_co'"), Is.EqualTo(1));
            Assert.That(await SubscriptionFieldAsync(tenant, "sub_co", "plan"), Is.EqualTo("professional"));
            Assert.That(await TenantFieldAsync(tenant, "plan"), Is.EqualTo("professional"));
            Assert.That(await TenantFieldAsync(tenant, "status"), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task An_invoice_paid_lifts_the_dunning_suspension_but_not_an_operator_suspension()
    {
        var dunned = await SubscribedTenantAsync(billingEmail: "a@example.com");
        var held = await SubscribedTenantAsync(billingEmail: "b@example.com");
        foreach (var s in new[] { dunned, held })
        {
            await DeliverAsync(InvoiceEvent("evt_f_" + s.Tenant, "invoice.payment_failed", 10, "in_" + s.Tenant, s.StripeSubscriptionId, s.CustomerId, s.Tenant));
            await OwnerSql.ScalarAsync<object>("UPDATE subscriptions SET past_due_since = now() - interval '9 days'", s.Tenant);
        }
        await using var engines = TestEngines.Build();
        using (var scope = engines.CreateScope())
        {
            var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
            Assert.That(await mediator.Send(new SuspendOverdueTenants()), Is.EqualTo(2));
            // An operator takes over the second suspension with its own reason.
            await mediator.Send(new SuspendTenant(Caller.System, held.Tenant, "chargeback investigation"));
        }

        foreach (var s in new[] { dunned, held })
        {
            await DeliverTenTimesAsync(InvoiceEvent("evt_p_" + s.Tenant, "invoice.paid", 20, "in_" + s.Tenant, s.StripeSubscriptionId, s.CustomerId, s.Tenant));
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await TenantFieldAsync(dunned.Tenant, "status"), Is.EqualTo("active"));
            Assert.That(await TenantFieldAsync(dunned.Tenant, "suspended_reason"), Is.Null);
            Assert.That(await TenantFieldAsync(held.Tenant, "status"), Is.EqualTo("suspended"));
            Assert.That(await TenantFieldAsync(held.Tenant, "suspended_reason"), Is.EqualTo("chargeback investigation"));
            Assert.That(await SubscriptionFieldAsync(held.Tenant, held.StripeSubscriptionId, "status"), Is.EqualTo("active"));
        });
    }

    [TestCase("missing")]
    [TestCase("wrong_secret")]
    [TestCase("too_old")]
    [TestCase("tampered")]
    public async Task A_subscription_event_with_a_bad_signature_gets_400_and_changes_nothing(string fault)
    {
        var s = await SubscribedTenantAsync();
        var payload = SubscriptionEvent("evt_bad", "customer.subscription.deleted", 10, s.StripeSubscriptionId, s.CustomerId, s.Tenant, "canceled");
        var signature = fault switch
        {
            "missing" => null,
            "wrong_secret" => Sign(payload, DateTimeOffset.UtcNow, "whsec_other"),
            "too_old" => Sign(payload, DateTimeOffset.UtcNow.AddSeconds(-301)),
            _ => Sign(payload.Replace("evt_bad", "evt_bae", StringComparison.Ordinal), DateTimeOffset.UtcNow),
        };

        using var delivery = await PostWebhookAsync(payload, signature);

        await TestApi.ExpectProblemAsync(delivery, HttpStatusCode.BadRequest, "invalid_signature");
        Assert.Multiple(async () =>
        {
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "status"), Is.EqualTo("active"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("professional"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM stripe_events"), Is.Zero);
        });
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
