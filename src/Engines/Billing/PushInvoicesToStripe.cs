using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Stripe;
using Platform.Engines.Audit;
using Platform.Engines.Stripe;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;

namespace Platform.Engines.Billing;

/// <summary>When Stripe is configured, pushes each committed open invoice that Stripe does not hold yet to Stripe (an invoice for the tenant's customer,
/// one invoice item per line, finalized so Stripe charges it) and records Stripe's ids; keys derive from our invoice id, so a re-run after a crash repeats
/// the same requests and never makes a second Stripe invoice. An invoice whose push fails is counted and backed off (1, 2, 4 ... minutes, at most
/// 6 hours) and the pass goes on with the next one. Does nothing offline; returns how many invoices it pushed.</summary>
public sealed record PushInvoicesToStripe(int MaxInvoices = 500) : IRequest<int>;

internal sealed class PushInvoicesToStripeHandler(
    IDbSessionFactory sessions, TenantSweep sweep, IBillingDriver billing, IInvoiceDriver invoices, IStripeDriver stripe, AuditTrail audit, IClock clock,
    ILogger<PushInvoicesToStripeHandler> logger)
    : IRequestHandler<PushInvoicesToStripe, int>
{
    /// <summary>Is the wait after an invoice's first failed push; each further failure doubles it, up to MaxRetryDelay.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(6);

    public async Task<int> Handle(PushInvoicesToStripe command, CancellationToken cancellationToken)
    {
        if (!stripe.Online)
        {
            return 0;
        }
        IReadOnlyList<(Guid TenantId, Guid InvoiceId)> pending;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            pending = await invoices.ListInvoicesToPushToStripeAsync(lookup, command.MaxInvoices, clock.UtcNow, cancellationToken);
        }
        var pushed = 0;
        foreach (var item in pending)
        {
            try
            {
                pushed += await PushAsync(item, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await RecordFailureAsync(item, e, cancellationToken);
            }
        }
        return pushed;
    }

    /// <summary>Counts the failure on the invoice in a transaction of its own (the push's rolled back) and backs it off.</summary>
    private async Task RecordFailureAsync((Guid TenantId, Guid InvoiceId) item, Exception error, CancellationToken cancellationToken)
    {
        (int Attempts, DateTimeOffset NextAttemptAt)? recorded = null;
        await sweep.ForEachClaimedAsync([item.TenantId], async scope =>
        {
            recorded = await invoices.RecordStripePushFailureAsync(scope.Session, item.TenantId, item.InvoiceId,
                $"{error.GetType().Name}: {error.Message}", FirstRetryDelay, MaxRetryDelay, clock.UtcNow, cancellationToken);
            return recorded is not null;
        }, cancellationToken);
        logger.LogWarning(error, "Billing: pushing invoice {InvoiceId} of tenant {TenantId} to Stripe failed (attempt {Attempts}); next attempt after {NextAttemptAt:O}",
            item.InvoiceId, item.TenantId, recorded?.Attempts, recorded?.NextAttemptAt);
    }

    private Task<int> PushAsync((Guid TenantId, Guid InvoiceId) item, CancellationToken cancellationToken) =>
        sweep.ForEachClaimedAsync([item], p => p.TenantId, async (scope, p) =>
        {
            var (tenantId, invoiceId) = p;
            var invoice = await invoices.FetchInvoiceAsync(scope.Session, tenantId, invoiceId, cancellationToken);
            if (invoice is not { Status: InvoiceStatus.Open, StripeInvoiceId: null } || invoice.TotalCents <= 0)
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
