using MediatR;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Engines.Billing;

/// <summary>When Stripe is configured, pushes each committed open invoice that Stripe does not hold yet to Stripe (an invoice for the tenant's customer,
/// one invoice item per line, finalized so Stripe charges it) and records Stripe's ids; keys derive from our invoice id, so a re-run after a crash repeats
/// the same requests and never makes a second Stripe invoice. Does nothing offline; returns how many invoices it pushed.</summary>
public sealed record PushInvoicesToStripe(int MaxInvoices = 500) : IRequest<int>;

internal sealed class PushInvoicesToStripeHandler(
    IDbSessionFactory sessions, TenantSweep sweep, IBillingDriver billing, IInvoiceDriver invoices, IStripeDriver stripe, AuditTrail audit, IClock clock)
    : IRequestHandler<PushInvoicesToStripe, int>
{
    public async Task<int> Handle(PushInvoicesToStripe command, CancellationToken cancellationToken)
    {
        if (!stripe.Online)
        {
            return 0;
        }
        IReadOnlyList<(Guid TenantId, Guid InvoiceId)> pending;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            pending = await invoices.ListInvoicesToPushToStripeAsync(lookup, command.MaxInvoices, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(pending, p => p.TenantId, async (scope, p) =>
        {
            var (tenantId, invoiceId) = p;
            var invoice = await invoices.FetchInvoiceAsync(scope.Session, tenantId, invoiceId, cancellationToken);
            if (invoice is not { Status: "open", StripeInvoiceId: null } || invoice.TotalCents <= 0)
            {
                return false;
            }
            var now = clock.UtcNow;
            var lines = await invoices.ListLinesAsync(scope.Session, tenantId, invoiceId, cancellationToken);
            var customerId = await StripeCustomers.EnsureAsync(billing, stripe, scope, now, cancellationToken);
            var result = await stripe.CreateFinalizedInvoiceAsync(
                customerId, invoice.Currency, tenantId, invoiceId, invoice.Number,
                lines.Where(l => l.AmountCents != 0).Select(l => new StripeInvoiceLine(l.AmountCents, l.Description, $"invoice-{invoiceId}-item-{l.LineNo}")).ToList(),
                $"invoice-{invoiceId}", $"invoice-{invoiceId}-finalize", cancellationToken);
            var stored = await invoices.SetStripeIdsAsync(scope.Session, tenantId, invoiceId, result.Id, result.PaymentIntentId, now, cancellationToken)
                ?? throw new NotFoundException("invoice");
            await audit.RecordAsync(scope.Session, tenantId, Caller.System, "invoice.sent_to_stripe", "invoice", invoiceId,
                new { invoice.StripeInvoiceId }, new { stored.StripeInvoiceId, stored.StripePaymentIntentId, stripe_status = result.Status, stored.TotalCents }, cancellationToken);
            return true;
        }, cancellationToken);
    }
}
