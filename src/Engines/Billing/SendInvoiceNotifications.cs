using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Billing;
using Platform.Drivers.Sessions;
using Platform.Engines.Email;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Email;

namespace Platform.Engines.Billing;

/// <summary>Queues the invoice emails due (ADR 0651): the invoice when it is issued, reminders before and after the due date of an offline invoice
/// (Invoices:ReminderDaysBeforeDue, Invoices:ReminderDaysAfterDue), the receipt when paid; each to the billing email, with the invoice's PDF attached
/// (rendered when the email is sent), once per invoice and kind however many copies run (tenant claimed with SKIP LOCKED, the record's key decides).
/// Returns how many it queued.</summary>
public sealed record SendInvoiceNotifications(int MaxNotifications = 200) : IRequest<int>;

internal sealed class SendInvoiceNotificationsHandler(
    IDbSessionFactory sessions, TenantSweep sweep, IInvoiceNotificationDriver notifications, IInvoiceDriver invoices, TenantNotices notices,
    InvoiceDocumentOptions options, BillingLifecycle lifecycle, IClock clock)
    : IRequestHandler<SendInvoiceNotifications, int>
{
    public async Task<int> Handle(SendInvoiceNotifications command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        IReadOnlyList<DueInvoiceNotification> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await notifications.ListDueAsync(lookup, now, options.ReminderDaysBeforeDue, options.ReminderDaysAfterDue, options.NotificationWindowDays,
                command.MaxNotifications, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(due, d => d.TenantId, async (scope, d) =>
        {
            var invoice = await invoices.FetchInvoiceAsync(scope.Session, d.TenantId, d.InvoiceId, cancellationToken);
            if (invoice is null || scope.Tenant.BillingEmail is not { } to || Render(d.Kind, invoice, to, scope.Tenant.Name, now) is not { } email)
            {
                return false;
            }
            var attached = email with { Attachments = [new EmailAttachmentRef(InvoicePdfAttachments.Kind, d.TenantId, d.InvoiceId)] };
            var messageId = await notices.QueueInScopeAsync(scope, Caller.System, to, KindOf(d.Kind), (_, _) => attached, cancellationToken);
            // The record's key decides under concurrency: a copy that lost returns false, and its transaction (with its queued email) is not committed.
            return await notifications.TryRecordAsync(scope.Session, d.TenantId, d.InvoiceId, d.Kind, messageId, now, cancellationToken);
        }, cancellationToken);
    }

    private EmailContent? Render(string kind, InvoiceSnapshot invoice, string to, string tenantName, DateTimeOffset now)
    {
        var url = lifecycle.BillingUrl;
        return kind switch
        {
            "issued" when invoice.Status is InvoiceStatus.Open or InvoiceStatus.Paid =>
                EmailTemplates.InvoiceIssued(to, tenantName, invoice.Number, invoice.TotalCents, invoice.Currency, invoice.StripeInvoiceId is null ? invoice.DueDate : null, url),
            "reminder_before_due" or "reminder_after_due" when invoice.Status == InvoiceStatus.Open && invoice.DueDate is { } dueDate =>
                EmailTemplates.InvoiceReminder(to, tenantName, invoice.Number, invoice.TotalCents, invoice.Currency, dueDate,
                    dueDate < DateOnly.FromDateTime(now.UtcDateTime), url),
            "receipt" when invoice.Status == InvoiceStatus.Paid && invoice.PaidAt is { } paidAt =>
                EmailTemplates.InvoiceReceipt(to, tenantName, invoice.Number, invoice.TotalCents, invoice.Currency, paidAt, url),
            _ => null,
        };
    }

    private static string KindOf(string kind) => kind switch
    {
        "issued" => EmailTemplates.InvoiceIssuedKind,
        "receipt" => EmailTemplates.InvoiceReceiptKind,
        _ => EmailTemplates.InvoiceReminderKind,
    };
}

/// <summary>Renders the invoice PDF attached to an invoice email when the email is sent, from the invoice id the outbox keeps (no bytes stored, ADR 0651).</summary>
internal sealed class InvoicePdfAttachments(IServiceScopeFactory scopes) : IEmailAttachmentSource
{
    public const string Kind = "invoice_pdf";

    string IEmailAttachmentSource.Kind => Kind;

    public async Task<EmailAttachment> RenderAsync(EmailAttachmentRef reference, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var pdf = await scope.ServiceProvider.GetRequiredService<IMediator>()
            .Send(new GetInvoicePdf(Caller.System, reference.TenantId, reference.Id), cancellationToken);
        return new EmailAttachment(pdf.FileName, "application/pdf", pdf.Content);
    }
}
