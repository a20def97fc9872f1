using Platform.Tests.Billing;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Proves that a payment reaches our own invoices: Stripe's invoice.paid marks the invoice Stripe collects paid exactly once, however often it is delivered.</summary>
public sealed class InvoicePaymentTests : OnlineBillingTest
{
    [Test]
    public async Task Stripe_invoice_paid_marks_our_invoice_paid_once_however_often_it_arrives()
    {
        var s = await SubscribedTenantAsync();
        // October's usage (2,000,000 API calls) gives the tenant a usage invoice when October is closed.
        await PutUsageAsync(s.Tenant, Utc(2026, 10, 1), "api_calls", 2_000_000);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        var invoice = await InvoiceAsync(s.Tenant, Utc(2026, 10, 1));
        Assert.That(invoice?.Status, Is.EqualTo("open"), "the close must have issued an open invoice");
        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET stripe_invoice_id = 'in_ours' WHERE tenant_id = @t", s.Tenant, ("t", s.Tenant));

        var outcomes = await DeliverTenTimesAsync(InvoiceEvent("evt_ours_paid", "invoice.paid", 30, "in_ours", s.StripeSubscriptionId, s.CustomerId, s.Tenant));

        Assert.Multiple(async () =>
        {
            Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That((await InvoiceAsync(s.Tenant, Utc(2026, 10, 1)))?.Status, Is.EqualTo("paid"));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM invoices WHERE paid_at IS NOT NULL"), Is.EqualTo(1));
            Assert.That(await CountAsync(s.Tenant, "SELECT count(*) FROM audit_log WHERE action = 'invoice.paid' AND actor_type = 'system'"), Is.EqualTo(1));
        });
    }
}
