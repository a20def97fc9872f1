using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Engines.Branding;
using Platform.Models;
using Platform.Models.Email;

namespace Platform.Engines.Email;

/// <summary>Puts an email into the outbox in the caller's transaction, so it is sent if and only if the change that caused it commits; secrets in it (such as an invitation token) are stored encrypted and filled in only when the message is sent.</summary>
internal sealed partial class EmailOutbox(IOutboxDriver outbox, IDataProtectionProvider dataProtection, IClock clock, TenantBrandingLookup branding)
{
    /// <summary>Is the Data Protection purpose of outbox secrets; the message kind is added as a sub-purpose, so a secret of one kind never opens as another.</summary>
    public const string SecretPurpose = "Platform.Outbox.Secret.v1";

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Gives the placeholder that stands for a named secret in a rendered email until it is sent.</summary>
    public static string Placeholder(string name) => "__secret_" + name + "__";

    public Task<Guid> EnqueueAsync(IDbSession session, Guid? tenantId, string kind, EmailContent email, CancellationToken cancellationToken) =>
        EnqueueAsync(session, tenantId, kind, email, secrets: null, secretsExpireAt: null, cancellationToken);

    /// <summary>Queues an email whose bodies carry placeholders (see Placeholder) for the secrets; each secret is stored protected and is useless after secretsExpireAt, when the message fails instead of being sent.</summary>
    public async Task<Guid> EnqueueAsync(
        IDbSession session, Guid? tenantId, string kind, EmailContent email, IReadOnlyDictionary<string, string>? secrets, DateTimeOffset? secretsExpireAt,
        CancellationToken cancellationToken)
    {
        Dictionary<string, string>? stored = null;
        if (secrets is { Count: > 0 })
        {
            var protector = Protector(kind);
            stored = [];
            foreach (var (name, value) in secrets)
            {
                // Secrets go into URLs and HTML unescaped, so only URL- and HTML-safe values are accepted (base64url tokens are).
                if (!SafeName().IsMatch(name) || !SafeValue().IsMatch(value))
                {
                    throw new ArgumentException($"The secret '{name}' must be a base64url string with a name of letters, digits or '_'.", nameof(secrets));
                }
                stored[name] = protector.Protect(value);
            }
        }
        // A tenant's email carries its branding while it has the feature (read in the caller's session, scoped to the tenant); others the platform's.
        var brand = tenantId is { } tenant && session.TenantId == tenant ? (await branding.EffectiveAsync(session, tenant, cancellationToken)).Branding : null;
        email = EmailTemplates.Brand(email, brand);
        var id = Guid.CreateVersion7();
        var payload = new StoredEmail(email.To, email.Subject, email.Text, email.Html, stored, stored is null ? null : secretsExpireAt, email.SenderName,
            email.Attachments.Count > 0 ? email.Attachments.ToList() : null);
        await outbox.EnqueueAsync(session, new NewOutboxMessage(id, tenantId, kind, JsonSerializer.Serialize(payload, Json), clock.UtcNow), cancellationToken);
        return id;
    }

    /// <summary>Reads a leased email and fills in its secrets; throws OutboxSecretExpiredException when they expired before now.</summary>
    public EmailContent Open(string kind, string payload, DateTimeOffset now)
    {
        var stored = JsonSerializer.Deserialize<StoredEmail>(payload, Json) ?? throw new JsonException("The outbox payload is empty.");
        IReadOnlyList<EmailAttachmentRef> attachments = stored.Attachments ?? [];
        if (stored.Secrets is not { Count: > 0 } secrets)
        {
            return new EmailContent(stored.To, stored.Subject, stored.Text, stored.Html, stored.SenderName) { Attachments = attachments };
        }
        if (stored.SecretsExpireAt is { } expireAt && expireAt <= now)
        {
            throw new OutboxSecretExpiredException($"The message's secrets expired at {expireAt:O}; it is not sent.");
        }
        var protector = Protector(kind);
        string text = stored.Text, html = stored.Html;
        foreach (var (name, protectedValue) in secrets)
        {
            var value = protector.Unprotect(protectedValue);
            text = text.Replace(Placeholder(name), value, StringComparison.Ordinal);
            html = html.Replace(Placeholder(name), value, StringComparison.Ordinal);
        }
        return new EmailContent(stored.To, stored.Subject, text, html, stored.SenderName) { Attachments = attachments };
    }

    private IDataProtector Protector(string kind) => dataProtection.CreateProtector(SecretPurpose, kind);

    [GeneratedRegex("^[A-Za-z0-9_]{1,50}$")]
    private static partial Regex SafeName();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,512}$")]
    private static partial Regex SafeValue();

    /// <summary>Is the payload as stored: the rendered email with placeholders, and its protected secrets (removed once the message is sent or failed).</summary>
    private sealed record StoredEmail(
        string To, string Subject, string Text, string Html, Dictionary<string, string>? Secrets, DateTimeOffset? SecretsExpireAt, string? SenderName = null,
        List<EmailAttachmentRef>? Attachments = null);
}

/// <summary>Renders one kind of email attachment when the email is sent (a feature registers one per kind, such as billing's invoice PDF).</summary>
internal interface IEmailAttachmentSource
{
    /// <summary>Gets the kind of attachment it renders, as an <see cref="EmailAttachmentRef"/> names it.</summary>
    string Kind { get; }

    /// <summary>Renders the attachment; throws when it cannot (the email is then retried like a failed send).</summary>
    Task<EmailAttachment> RenderAsync(EmailAttachmentRef reference, CancellationToken cancellationToken);
}

/// <summary>Signals that an outbox message's secrets expired before it could be sent; the message fails for good.</summary>
public sealed class OutboxSecretExpiredException(string message) : Exception(message);
