namespace Platform.Models.Email;

/// <summary>Holds a message to put in the outbox: its kind (for example "email.invitation"), its tenant (null for platform-wide) and its JSON payload.</summary>
public sealed record NewOutboxMessage(Guid Id, Guid? TenantId, string Kind, string Payload, DateTimeOffset Now);

/// <summary>Holds a leased outbox message: the attempt number it is on (1 for the first) and its JSON payload.</summary>
public sealed record LeasedOutboxMessage(Guid Id, Guid? TenantId, string Kind, string Payload, int Attempt, DateTimeOffset CreatedAt);

/// <summary>Holds an email as rendered into the outbox: recipient, subject, plain text and HTML bodies, the sender's display name when the
/// tenant's branding sets one (null: the configured From as it is), and the attachments rendered when it is sent.</summary>
public sealed record EmailContent(string To, string Subject, string Text, string Html, string? SenderName = null)
{
    /// <summary>Gets the attachments, as references the outbox keeps and the dispatcher renders at send time (no bytes in the outbox, ADR 0651).</summary>
    public IReadOnlyList<EmailAttachmentRef> Attachments { get; init; } = [];
}

/// <summary>Names an attachment to render when the email is sent: its kind (such as "invoice_pdf"), the tenant and the id of what it shows.</summary>
public sealed record EmailAttachmentRef(string Kind, Guid TenantId, Guid Id);

/// <summary>Holds a rendered attachment: file name, MIME type and bytes.</summary>
public sealed record EmailAttachment(string FileName, string ContentType, byte[] Content);
