using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Models;
using Platform.Tests.ApiKeys;
using Platform.Tests.Billing;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Proves the close online: our invoice carries only what Stripe's subscription does not bill (overages), is pushed to Stripe after it is committed
/// with idempotency keys from our invoice id, is never pushed twice (re-runs, lost commits, parallel copies), and Stripe's invoice.paid marks it paid.</summary>
public sealed class StripeInvoicePushTests : OnlineBillingTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task The_online_close_pushes_only_overage_lines_with_keys_from_our_invoice_and_invoice_paid_marks_it_paid()
    {
        var withUsage = await SubscribedInSeptemberAsync();
        var baseOnly = await SubscribedInSeptemberAsync();
        await PutUsageAsync(withUsage, October, "api_calls", 1_050_000);
        await PutUsageAsync(withUsage, October, "gpu_hours", 210);

        var summary = await OnlineAsync(Utc(2026, 11, 2), new CloseBillingPeriod(Caller.System, "2026-10"));

        var invoiceId = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", withUsage, ("t", withUsage));
        var stripeInvoiceId = await OwnerSql.ScalarAsync<string>("SELECT stripe_invoice_id FROM invoices WHERE tenant_id = @t", withUsage, ("t", withUsage));
        var customer = await OwnerSql.ScalarAsync<string>("SELECT customer_id FROM stripe_customers", withUsage);
        var created = Stripe.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/invoices").ToList();
        var items = Stripe.Requests.Where(r => r.Path == "/v1/invoiceitems").OrderBy(r => r.IdempotencyKey, StringComparer.Ordinal).ToList();
        var finalized = Stripe.Requests.Where(r => r.Path.EndsWith("/finalize", StringComparison.Ordinal)).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(summary.InvoicesCreated, Is.EqualTo(1), "the base-only tenant owes our invoice nothing: Stripe's subscription bills the base");
            Assert.That(summary.CreatedTotalCents, Is.EqualTo(7_500));
            Assert.That(await LinesAsync(withUsage, October), Is.EqualTo(new[] { "overage api_calls 50000/1 x 0.1 = 5000", "overage gpu_hours 10/1 x 250 = 2500" }));
            Assert.That(await InvoiceAsync(baseOnly, October), Is.Null);
            Assert.That(created, Has.Count.EqualTo(1));
            Assert.That(created[0].IdempotencyKey, Is.EqualTo($"invoice-{invoiceId}"));
            Assert.That(created[0].Form["customer"], Is.EqualTo(customer));
            Assert.That(created[0].Form["collection_method"], Is.EqualTo("charge_automatically"));
            Assert.That(created[0].Form["auto_advance"], Is.EqualTo("true"));
            Assert.That(created[0].Form["metadata[tenant_id]"], Is.EqualTo(withUsage.ToString()));
            Assert.That(created[0].Form["metadata[invoice_id]"], Is.EqualTo(invoiceId.ToString()));
            Assert.That(items.Select(i => i.IdempotencyKey), Is.EqualTo(new[] { $"invoice-{invoiceId}-item-1", $"invoice-{invoiceId}-item-2" }));
            Assert.That(items.Select(i => i.Form["amount"]), Is.EqualTo(new[] { "5000", "2500" }));
            Assert.That(items.Select(i => i.Form["invoice"]), Is.All.EqualTo(stripeInvoiceId));
            Assert.That(finalized.Select(f => f.Path), Is.EqualTo(new[] { $"/v1/invoices/{stripeInvoiceId}/finalize" }));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT stripe_payment_intent_id FROM invoices WHERE tenant_id = @t", withUsage, ("t", withUsage)),
                Is.EqualTo("pi_" + stripeInvoiceId));
            Assert.That(await CountAsync(withUsage, "SELECT count(*) FROM audit_log WHERE action = 'invoice.sent_to_stripe'"), Is.EqualTo(1));
        });

        var outcome = await DeliverAsync(InvoiceEvent("evt_usage_paid", "invoice.paid", 60, stripeInvoiceId!, "sub_none", customer!, withUsage, 7_500));

        Assert.Multiple(async () =>
        {
            Assert.That(outcome, Is.EqualTo("processed"));
            Assert.That((await InvoiceAsync(withUsage, October))?.Status, Is.EqualTo("paid"));
        });
    }

    [Test]
    public async Task A_re_run_after_a_lost_commit_reuses_the_keys_and_gets_the_same_Stripe_invoice_and_five_copies_push_each_invoice_once()
    {
        // Closed offline, so nothing is pushed yet; the push then runs here as five copies at once.
        var tenants = await ThreeOverageInvoicesClosedOfflineAsync();
        await using var engines = OnlineEngines(DateTimeOffset.UtcNow);

        var pushed = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PushInvoicesToStripe());
        }));
        var first = await OwnerSql.ScalarAsync<string>("SELECT stripe_invoice_id FROM invoices WHERE tenant_id = @t", tenants[0], ("t", tenants[0]));
        // As if our commit had been lost after Stripe answered: the next pass repeats the same requests.
        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET stripe_invoice_id = NULL, stripe_payment_intent_id = NULL WHERE tenant_id = @t", tenants[0], ("t", tenants[0]));
        var again = await SendAsync(engines, new PushInvoicesToStripe());
        var third = await SendAsync(engines, new PushInvoicesToStripe());

        var keys = Stripe.Requests.Where(r => r.Method == "POST" && r.Path == "/v1/invoices").Select(r => r.IdempotencyKey).ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(pushed.Sum(), Is.EqualTo(3));
            Assert.That(again, Is.EqualTo(1));
            Assert.That(third, Is.Zero);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT stripe_invoice_id FROM invoices WHERE tenant_id = @t", tenants[0], ("t", tenants[0])), Is.EqualTo(first));
            Assert.That(keys.Distinct().Count(), Is.EqualTo(3), "one Stripe invoice key per invoice of ours");
            Assert.That(keys, Has.Count.EqualTo(4), "the re-run repeated its key");
            foreach (var tenant in tenants)
            {
                Assert.That(await CountAsync(tenant, "SELECT count(*) FROM invoices WHERE stripe_invoice_id IS NOT NULL"), Is.EqualTo(1));
            }
        });
    }

    [Test]
    public async Task An_invoice_Stripe_refuses_is_backed_off_and_does_not_hold_up_the_others()
    {
        var tenants = await ThreeOverageInvoicesClosedOfflineAsync();
        var refused = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", tenants[0], ("t", tenants[0]));
        Stripe.Refuse = r => r.Method == "POST" && r.Path == "/v1/invoices" && r.Form.GetValueOrDefault("metadata[invoice_id]") == refused.ToString();
        var start = Utc(2026, 11, 3);
        var clock = new ManualClock(start);
        await using var engines = OnlineEngines(clock);
        int Attempts() => Stripe.Requests.Count(r => r.Path == "/v1/invoices" && r.Form.GetValueOrDefault("metadata[invoice_id]") == refused.ToString());

        var firstPass = await SendAsync(engines, new PushInvoicesToStripe());
        var afterFirst = await RowAsync();
        var duringBackOff = await SendAsync(engines, new PushInvoicesToStripe());
        var requestsDuringBackOff = Attempts();
        clock.Advance(TimeSpan.FromMinutes(1));
        var secondFailure = await SendAsync(engines, new PushInvoicesToStripe());
        var afterSecond = await RowAsync();
        Stripe.Refuse = null;
        clock.Advance(TimeSpan.FromMinutes(1));
        var stillBackedOff = await SendAsync(engines, new PushInvoicesToStripe());
        clock.Advance(TimeSpan.FromMinutes(1));
        var recovered = await SendAsync(engines, new PushInvoicesToStripe());
        var afterRecovery = await RowAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(firstPass, Is.EqualTo(2), "the two other invoices go through in the pass where the first one fails");
            Assert.That(afterFirst["stripe_push_attempts"], Is.EqualTo(1));
            Assert.That(AtUtc(afterFirst["stripe_push_next_at"]), Is.EqualTo(start.AddMinutes(1)));
            Assert.That(afterFirst["stripe_push_error"], Does.Contain("No such customer"));
            Assert.That(duringBackOff, Is.Zero);
            Assert.That(requestsDuringBackOff, Is.EqualTo(1), "no request to Stripe while the invoice is backed off");
            Assert.That(secondFailure, Is.Zero);
            Assert.That(afterSecond["stripe_push_attempts"], Is.EqualTo(2));
            Assert.That(AtUtc(afterSecond["stripe_push_next_at"]), Is.EqualTo(start.AddMinutes(1 + 2)), "the wait doubles");
            Assert.That(stillBackedOff, Is.Zero);
            Assert.That(recovered, Is.EqualTo(1));
            Assert.That(afterRecovery["stripe_invoice_id"], Does.StartWith("in_"));
            Assert.That(afterRecovery["stripe_push_error"], Is.Null);
            Assert.That(afterRecovery["stripe_push_next_at"], Is.Null);
            Assert.That(await CountAsync(tenants[0], "SELECT count(*) FROM audit_log WHERE action = 'invoice.sent_to_stripe'"), Is.EqualTo(1));
        });

        async Task<Dictionary<string, object?>> RowAsync() => (await Keys.ReadRowAsync(tenants[0],
            "SELECT stripe_push_attempts, stripe_push_next_at, stripe_push_error, stripe_invoice_id FROM invoices WHERE tenant_id = @t AND id = @i",
            ("t", tenants[0]), ("i", refused)))!;

        static DateTimeOffset AtUtc(object? at) => new((DateTime)at!, TimeSpan.Zero);
    }

    /// <summary>Creates a tenant subscribed online to professional monthly on 20 September 2026, so October carries a whole base Stripe bills.</summary>
    private async Task<Guid> SubscribedInSeptemberAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await OnlineAsync(Utc(2026, 9, 20), new SubscribeTenant(Caller.System, tenant, "professional", "monthly", null));
        return tenant;
    }

    /// <summary>Creates three subscribed tenants with October overage and closes October offline: three open invoices Stripe does not hold yet.</summary>
    private async Task<List<Guid>> ThreeOverageInvoicesClosedOfflineAsync()
    {
        var tenants = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var tenant = await SubscribedInSeptemberAsync();
            await PutUsageAsync(tenant, October, "api_calls", 1_100_000);
            tenants.Add(tenant);
        }
        await AtAsync(Utc(2026, 11, 2), new CloseBillingPeriod(Caller.System, "2026-10"));
        return tenants;
    }

    private ServiceProvider OnlineEngines(DateTimeOffset now) => OnlineEngines(new ManualClock(now));

    private ServiceProvider OnlineEngines(IClock clock) =>
        TestEngines.Build(new() { ["Stripe:SecretKey"] = "sk_test_fake", ["Stripe:ApiBase"] = Stripe.BaseUrl }, clock);

    private async Task<T> OnlineAsync<T>(DateTimeOffset now, IRequest<T> command)
    {
        await using var engines = OnlineEngines(now);
        return await SendAsync(engines, command);
    }

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
