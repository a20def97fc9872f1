namespace Platform.Models.Email;

/// <summary>Holds a message to put in the outbox: its kind (for example "email.invitation"), its tenant (null for platform-wide) and its JSON payload.</summary>
public sealed record NewOutboxMessage(Guid Id, Guid? TenantId, string Kind, string Payload, DateTimeOffset Now);

/// <summary>Holds a leased outbox message: the attempt number it is on (1 for the first) and its JSON payload.</summary>
public sealed record LeasedOutboxMessage(Guid Id, Guid? TenantId, string Kind, string Payload, int Attempt, DateTimeOffset CreatedAt);

/// <summary>Holds an email as rendered into the outbox: recipient, subject, plain text and HTML bodies, and the sender's display name when the
/// tenant's branding sets one (null: the configured From as it is).</summary>
public sealed record EmailContent(string To, string Subject, string Text, string Html, string? SenderName = null);
