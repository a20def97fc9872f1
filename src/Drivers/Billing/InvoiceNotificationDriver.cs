using Platform.Drivers.Sessions;

namespace Platform.Drivers.Billing;

/// <summary>Names one invoice notification due: the invoice and the kind ("issued", "reminder_before_due", "reminder_after_due", "receipt").</summary>
public sealed record DueInvoiceNotification(Guid TenantId, Guid InvoiceId, string Kind);

/// <summary>Finds invoice notifications due across tenants and records each one sent, once per invoice and kind (ADR 0651).</summary>
public interface IInvoiceNotificationDriver
{
    /// <summary>Lists up to limit notifications due at now and not recorded yet (invoice_notifications_due), oldest event first.</summary>
    Task<IReadOnlyList<DueInvoiceNotification>> ListDueAsync(IDbSession session, DateTimeOffset now, int beforeDays, int afterDays, int windowDays, int limit, CancellationToken cancellationToken);

    /// <summary>Records a notification with the outbox message that carries it; false when this invoice already had this kind.</summary>
    Task<bool> TryRecordAsync(IDbSession session, Guid tenantId, Guid invoiceId, string kind, Guid outboxMessageId, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class InvoiceNotificationDriver : IInvoiceNotificationDriver
{
    public async Task<IReadOnlyList<DueInvoiceNotification>> ListDueAsync(
        IDbSession session, DateTimeOffset now, int beforeDays, int afterDays, int windowDays, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            "SELECT tenant_id, invoice_id, kind FROM invoice_notifications_due(@now, @beforeDays, @afterDays, @windowDays, @limit)",
            new { now, beforeDays, afterDays, windowDays, limit }, (DueRow r) => new DueInvoiceNotification(r.TenantId, r.InvoiceId, r.Kind), cancellationToken);
    }

    public async Task<bool> TryRecordAsync(IDbSession session, Guid tenantId, Guid invoiceId, string kind, Guid outboxMessageId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            """
            INSERT INTO invoice_notifications (tenant_id, invoice_id, kind, outbox_message_id, created_at)
            VALUES (@tenantId, @invoiceId, @kind, @outboxMessageId, @now)
            ON CONFLICT DO NOTHING
            """,
            new { tenantId, invoiceId, kind, outboxMessageId, now }, cancellationToken) == 1;
    }

    private sealed class DueRow
    {
        public Guid TenantId { get; init; }
        public Guid InvoiceId { get; init; }
        public string Kind { get; init; } = "";
    }
}
