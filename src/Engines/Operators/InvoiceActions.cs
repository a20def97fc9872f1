using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Billing;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Webhooks;

namespace Platform.Engines.Operators;

/// <summary>Marks an offline invoice paid (billing+): only an open invoice that Stripe does not hold; paying it twice is 409 invoice_already_paid. Irreversible (a payment recorded by mistake is corrected by a new action of its own, not by a reversal).</summary>
internal sealed class MarkInvoicePaidAction(IInvoiceDriver invoices, ITenantDriver tenants, BillingLifecycle lifecycle, AuditTrail audit, WebhookEvents events, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.MarkInvoicePaid;
    public string TargetType => "invoice";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var (tenantId, invoiceId) = Parse(context.TargetId);
        var session = context.Scope.Session;
        // The tenant row first, as every billing change of a tenant takes it (webhooks, jobs, commands).
        await tenants.LockTenantAsync(session, tenantId, cancellationToken);
        var invoice = await invoices.FetchInvoiceAsync(session, tenantId, invoiceId, cancellationToken) ?? throw new NotFoundException("invoice");
        if (invoice.StripeInvoiceId is not null)
        {
            throw new ConflictException("This invoice is collected by Stripe; it is marked paid when Stripe reports the payment.", "invoice_online");
        }
        if (invoice.Status == InvoiceStatus.Paid)
        {
            throw new ConflictException("This invoice is already paid.", "invoice_already_paid");
        }
        var paid = await invoices.MarkPaidAsync(session, tenantId, invoiceId, clock.UtcNow, null, cancellationToken)
            ?? throw (invoice.Status == InvoiceStatus.Open
                ? new ConflictException("This invoice is already paid.", "invoice_already_paid")
                : new ConflictException($"A {invoice.Status.ToWire()} invoice cannot be marked paid.", "invoice_not_payable"));
        await audit.RecordAsync(session, tenantId, context.Caller, "invoice.paid", "invoice", invoiceId,
            new { invoice.Status }, new { paid.Status, paid.PaidAt, paid.Number, paid.TotalCents }, cancellationToken);
        await events.EmitAsync(session, tenantId, WebhookEventTypes.InvoicePaid, InvoiceEventData.From(paid), cancellationToken);
        // Paying the last overdue invoice ends dunning: past_due -> active, billing's suspension lifted (an operator's stays).
        var now = clock.UtcNow;
        var stillOverdue = (await invoices.ListInvoicesAsync(session, tenantId, InvoiceStatus.Open, null, 200, cancellationToken))
            .Any(i => i.DueDate is { } due && due < DateOnly.FromDateTime(now.UtcDateTime));
        if (!stillOverdue)
        {
            await lifecycle.RecordPaymentAsync(context.Scope, context.Caller, now, cancellationToken);
        }
        return new { invoice_id = invoiceId, number = paid.Number, previous_status = invoice.Status.ToWire(), total_cents = paid.TotalCents };
    }

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        throw new ConflictException("Marking an invoice paid cannot be reversed.", "action_irreversible");

    private static (Guid TenantId, Guid InvoiceId) Parse(string targetId)
    {
        var parts = targetId.Split('/');
        return parts.Length == 2 && Guid.TryParse(parts[0], out var tenantId) && Guid.TryParse(parts[1], out var invoiceId)
            ? (tenantId, invoiceId)
            : throw new NotFoundException("invoice");
    }
}

/// <summary>Builds the founder-action target id of an invoice: "{tenant_id}/{invoice_id}".</summary>
public static class MarkInvoicePaidTarget
{
    public static string Of(Guid tenantId, Guid invoiceId) => $"{tenantId}/{invoiceId}";
}
