using Platform.Engines.Billing;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Billing;

/// <summary>Proves the webhooks the customer portal causes, each delivered signed to the webhook endpoint (ADR 0721): customer.updated sets the billing
/// email, name and address (an older one never overwrites a newer one), payment_method.attached keeps the card's brand, last four and expiry,
/// customer.subscription.updated moves the plan, invoice.voided and invoice.marked_uncollectible close our open invoice, invoice.finalized of Stripe's own
/// invoice reaches the tenant's webhooks, and every other invoice.* event is answered "ignored" and changes nothing.</summary>
public sealed class StripePortalWebhookTests : OnlineBillingTest
{
    [Test]
    public async Task Customer_updated_sets_the_billing_email_name_and_address_once_and_never_from_an_older_state()
    {
        var s = await SubscribedTenantAsync(billingEmail: "old@buyer.test");
        var newer = CustomerEvent("evt_cu2", 20, s.CustomerId, s.Tenant, "ap@buyer.test", "Buyer GmbH", "Hauptstr. 1", "10115", "Berlin", "de");
        var older = CustomerEvent("evt_cu1", 10, s.CustomerId, s.Tenant, "stale@buyer.test", "Old Name", "Old street 9", "99999", "Oldtown", "fr");

        var first = await DeliverTenTimesAsync(newer);
        var stale = await DeliverAsync(older);

        Assert.Multiple(async () =>
        {
            Assert.That(first.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(first.Count(o => o == "duplicate"), Is.EqualTo(9));
            Assert.That(stale, Is.EqualTo("stale"));
            Assert.That(await TenantFieldAsync(s.Tenant, "billing_email"), Is.EqualTo("ap@buyer.test"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT name || '|' || address_line1 || '|' || postal_code || '|' || city || '|' || country FROM billing_profiles", s.Tenant),
                Is.EqualTo("Buyer GmbH|Hauptstr. 1|10115|Berlin|DE"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'billing.customer_synced'"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Payment_method_attached_keeps_the_card_summary_found_through_the_customer()
    {
        var s = await SubscribedTenantAsync();
        var attached = PaymentMethodEvent("evt_pm1", 10, "pm_1", s.CustomerId, "visa", "4242", 12, 2031);
        var other = PaymentMethodEvent("evt_pm_other", 11, "pm_2", "cus_unknown", "visa", "1111", 1, 2030);

        var outcome = await DeliverAsync(attached);
        var unknown = await DeliverAsync(other);

        Assert.Multiple(async () =>
        {
            Assert.That(outcome, Is.EqualTo("processed"));
            Assert.That(unknown, Is.EqualTo("ignored"), "a customer that is no tenant's");
            Assert.That(await OwnerSql.ScalarAsync<string>(
                "SELECT payment_method_id || ' ' || card_brand || ' ' || card_last4 || ' ' || card_exp_month || '/' || card_exp_year FROM billing_profiles", s.Tenant),
                Is.EqualTo("pm_1 visa 4242 12/2031"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'billing.payment_method_attached'"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task The_billing_summary_shows_the_card_and_the_billing_details_kept_from_the_portal_s_webhooks()
    {
        var s = await SubscribedTenantAsync(billingEmail: "old@buyer.test");
        var before = await TestApi.ReadAsync(await s.Client.GetAsync($"/v1/tenants/{s.Tenant}/billing"));
        Assert.That(await DeliverAsync(PaymentMethodEvent("evt_sum_pm1", 10, "pm_sum_1", s.CustomerId, "visa", "4242", 12, 2031)), Is.EqualTo("processed"));
        Assert.That(await DeliverAsync(PaymentMethodEvent("evt_sum_pm2", 20, "pm_sum_2", s.CustomerId, "mastercard", "5454", 3, 2033)), Is.EqualTo("processed"));
        Assert.That(await DeliverAsync(PaymentMethodEvent("evt_sum_pm0", 5, "pm_sum_0", s.CustomerId, "amex", "0005", 1, 2030)), Is.EqualTo("stale"));
        Assert.That(await DeliverAsync(CustomerEvent("evt_sum_cu", 30, s.CustomerId, s.Tenant, "ap@buyer.test", "Buyer GmbH", "Hauptstr. 1", "10115", "Berlin", "de")),
            Is.EqualTo("processed"));
        var stranger = await TestApi.SignUpAsync();

        var summary = await TestApi.ReadAsync(await s.Client.GetAsync($"/v1/tenants/{s.Tenant}/billing"));
        using var foreign = await Client(stranger.Token).GetAsync($"/v1/tenants/{s.Tenant}/billing");
        var card = summary["payment_method"]!;
        var details = summary["billing_details"]!;
        Assert.Multiple(() =>
        {
            Assert.That(before["payment_method"], Is.Null, "no card reported yet");
            Assert.That((string?)before["billing_details"]!["email"], Is.EqualTo("old@buyer.test"));
            Assert.That(before["billing_details"]!["address"], Is.Null);
            Assert.That((string?)card["brand"], Is.EqualTo("mastercard"), "the card attached last in Stripe's time");
            Assert.That((string?)card["last4"], Is.EqualTo("5454"));
            Assert.That((int?)card["exp_month"], Is.EqualTo(3));
            Assert.That((int?)card["exp_year"], Is.EqualTo(2033));
            Assert.That(card.ToJsonString(), Does.Not.Contain("pm_sum"), "the summary shows the card, not Stripe's id");
            Assert.That((string?)details["email"], Is.EqualTo("ap@buyer.test"));
            Assert.That((string?)details["name"], Is.EqualTo("Buyer GmbH"));
            Assert.That((string?)details["address"]!["line1"], Is.EqualTo("Hauptstr. 1"));
            Assert.That((string?)details["address"]!["postal_code"], Is.EqualTo("10115"));
            Assert.That((string?)details["address"]!["city"], Is.EqualTo("Berlin"));
            Assert.That((string?)details["address"]!["country"], Is.EqualTo("DE"));
            Assert.That(foreign.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound), "another tenant's billing is 404");
        });
    }

    [Test]
    public async Task A_plan_change_in_the_portal_reaches_the_tenant_through_subscription_updated()
    {
        var s = await SubscribedTenantAsync();

        var outcome = await DeliverAsync(SubscriptionEvent("evt_portal_up", "customer.subscription.updated", 10, s.StripeSubscriptionId, s.CustomerId, null, "active",
            price: EnterpriseMonthly));

        Assert.Multiple(async () =>
        {
            Assert.That(outcome, Is.EqualTo("processed"));
            Assert.That(await SubscriptionFieldAsync(s.Tenant, s.StripeSubscriptionId, "plan"), Is.EqualTo("enterprise"));
            Assert.That(await TenantFieldAsync(s.Tenant, "plan"), Is.EqualTo("enterprise"));
        });
    }

    [Test]
    public async Task Invoice_events_are_handled_or_ignored_with_a_reason_and_ignored_ones_change_nothing()
    {
        var s = await SubscribedTenantAsync();
        var voided = await OurOpenInvoiceAsync(s.Tenant, "in_ours_void", 8);
        var uncollectible = await OurOpenInvoiceAsync(s.Tenant, "in_ours_unc", 9);
        var before = await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log");

        var ignored = new List<string?>();
        foreach (var (type, n) in StripeWebhookEventsIgnored().Select((t, i) => (t, i)))
        {
            ignored.Add(await DeliverAsync(InvoiceEventOf("evt_ign_" + n, type, 5, "in_ours_void", s.CustomerId, s.Tenant)));
        }
        var afterIgnored = await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log");
        var voidOutcome = await DeliverAsync(InvoiceEventOf("evt_void", "invoice.voided", 10, "in_ours_void", s.CustomerId, s.Tenant));
        var uncOutcome = await DeliverAsync(InvoiceEventOf("evt_unc", "invoice.marked_uncollectible", 11, "in_ours_unc", s.CustomerId, s.Tenant));
        var finalized = await DeliverAsync(InvoiceEventOf("evt_fin", "invoice.finalized", 12, "in_stripe_own", s.CustomerId, s.Tenant));

        Assert.Multiple(async () =>
        {
            Assert.That(ignored, Has.Count.EqualTo(10));
            Assert.That(ignored, Is.All.EqualTo("ignored"));
            Assert.That(afterIgnored, Is.EqualTo(before), "an ignored event writes nothing");
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM stripe_events WHERE event_id LIKE 'evt_ign_%'"), Is.Zero);
            Assert.That(voidOutcome, Is.EqualTo("processed"));
            Assert.That(uncOutcome, Is.EqualTo("processed"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM invoices WHERE id = @i", s.Tenant, ("i", voided)), Is.EqualTo("void"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM invoices WHERE id = @i", s.Tenant, ("i", uncollectible)), Is.EqualTo("uncollectible"));
            Assert.That(finalized, Is.EqualTo("processed"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action IN ('invoice.voided', 'invoice.marked_uncollectible')"), Is.EqualTo(2));
        });
    }

    private static IReadOnlyList<string> StripeWebhookEventsIgnored() =>
        typeof(ReceiveStripeWebhook).Assembly.GetType("Platform.Engines.Billing.ReceiveStripeWebhookHandler")!
            .GetProperty("IgnoredInvoiceEvents")!.GetValue(null) is IReadOnlyDictionary<string, string> d ? d.Keys.ToList() : [];

    private static async Task<Guid> OurOpenInvoiceAsync(Guid tenant, string stripeInvoiceId, int month)
    {
        var id = Guid.CreateVersion7();
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO invoices (tenant_id, id, number, kind, status, currency, period_start, period_end, subtotal_cents, total_cents, issued_at, created_at, updated_at,
                                  stripe_invoice_id)
            VALUES (@t, @i, 900000000 + floor(random() * 99000000)::bigint, 'period', 'open', 'usd', @p, @p + interval '1 month', 500, 500, now(), now(), now(), @s)
            """, tenant, ("t", tenant), ("i", id), ("s", stripeInvoiceId), ("p", Utc(2026, month, 1)));
        return id;
    }

    private static string CustomerEvent(string eventId, int at, string customerId, Guid tenant, string email, string name, string line1, string postalCode, string city, string country) =>
        Event(eventId, "customer.updated", at,
            "{\"id\":\"" + customerId + "\",\"object\":\"customer\",\"email\":\"" + email + "\",\"name\":\"" + name + "\",\"created\":" + Unix(0)
            + ",\"livemode\":false,\"metadata\":{\"tenant_id\":\"" + tenant + "\"},\"address\":{\"line1\":\"" + line1 + "\",\"line2\":null,\"postal_code\":\""
            + postalCode + "\",\"city\":\"" + city + "\",\"state\":null,\"country\":\"" + country + "\"}}");

    private static string PaymentMethodEvent(string eventId, int at, string id, string customerId, string brand, string last4, int expMonth, int expYear) =>
        Event(eventId, "payment_method.attached", at,
            "{\"id\":\"" + id + "\",\"object\":\"payment_method\",\"type\":\"card\",\"customer\":\"" + customerId + "\",\"created\":" + Unix(0)
            + ",\"livemode\":false,\"metadata\":{},\"card\":{\"brand\":\"" + brand + "\",\"last4\":\"" + last4 + "\",\"exp_month\":" + expMonth
            + ",\"exp_year\":" + expYear + ",\"country\":\"US\",\"funding\":\"credit\"}}");

    private static string InvoiceEventOf(string eventId, string type, int at, string invoiceId, string customerId, Guid tenant) =>
        Event(eventId, type, at,
            "{\"id\":\"" + invoiceId + "\",\"object\":\"invoice\",\"customer\":\"" + customerId + "\",\"amount_due\":500,\"currency\":\"usd\",\"status\":\"open\","
            + "\"livemode\":false,\"metadata\":{\"tenant_id\":\"" + tenant + "\"}}");

    private static string Event(string eventId, string type, int at, string objectJson) =>
        "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"type\":\"" + type + "\",\"created\":" + Unix(at)
        + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":" + objectJson + "}}";
}
