using System.ComponentModel.DataAnnotations;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Platform.Models.Email;

namespace Platform.Drivers.Email;

/// <summary>Holds the email settings (section "Email"): the sender, the SMTP server, or a pickup folder that receives .eml files instead.</summary>
public sealed class EmailOptions
{
    /// <summary>Gets or sets the From address of every email.</summary>
    [Required]
    public string From { get; set; } = "Platform <no-reply@platform.localhost>";

    /// <summary>Gets or sets a folder that receives each message as an .eml file instead of sending it; empty sends over SMTP.</summary>
    public string? PickupDirectory { get; set; }

    /// <summary>Gets or sets the SMTP server's settings.</summary>
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>Gets or sets the public base URL that links in emails start with, such as https://app.example.com.</summary>
    [Required]
    public string LinkBaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Gets or sets how many attempts a message gets before it is marked failed.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Gets or sets the delay before the second attempt, in seconds; each later one doubles it, up to MaxRetryDelaySeconds.</summary>
    [Range(0, 86_400)]
    public int RetryBaseSeconds { get; set; } = 30;

    /// <summary>Gets or sets the longest delay between attempts, in seconds.</summary>
    [Range(0, 604_800)]
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>Gets or sets how often the dispatcher looks for due messages, in milliseconds (never more often than every 50).</summary>
    [Range(1, 3_600_000)]
    public int PollIntervalMilliseconds { get; set; } = 5000;

    /// <summary>Gets or sets how many messages one dispatcher leases per round.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 20;
}

/// <summary>Holds the SMTP server's host, port, TLS mode and optional credentials.</summary>
public sealed class SmtpOptions
{
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65_535)]
    public int Port { get; set; } = 25;

    /// <summary>Gets or sets the TLS mode: None, Auto, SslOnConnect, StartTls or StartTlsWhenAvailable.</summary>
    [Required]
    [Models.OneOf(nameof(SecureSocketOptions.None), nameof(SecureSocketOptions.Auto), nameof(SecureSocketOptions.SslOnConnect),
        nameof(SecureSocketOptions.StartTls), nameof(SecureSocketOptions.StartTlsWhenAvailable))]
    public string Security { get; set; } = "StartTlsWhenAvailable";

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Gets or sets the connect and command timeout, in milliseconds.</summary>
    [Range(1, 600_000)]
    public int TimeoutMilliseconds { get; set; } = 30_000;
}

/// <summary>Sends one email over SMTP with MailKit, or writes it as an .eml file into the pickup folder when one is set.</summary>
public interface IMailDriver
{
    /// <summary>Sends the email with the given Message-ID (stable across retries); throws when the server refuses it or cannot be reached.</summary>
    Task SendAsync(EmailContent email, Guid messageId, CancellationToken cancellationToken, IReadOnlyList<EmailAttachment>? attachments = null);
}

internal sealed class MailDriver(EmailOptions options) : IMailDriver
{
    public async Task SendAsync(EmailContent email, Guid messageId, CancellationToken cancellationToken, IReadOnlyList<EmailAttachment>? attachments = null)
    {
        using var message = new MimeMessage();
        var from = MailboxAddress.Parse(options.From);
        // A tenant's branded sender name replaces the display name only; the address stays the platform's (SPF/DKIM).
        message.From.Add(email.SenderName is { Length: > 0 } senderName ? new MailboxAddress(senderName, from.Address) : from);
        message.To.Add(MailboxAddress.Parse(email.To));
        message.Subject = email.Subject;
        message.MessageId = $"{messageId:N}@platform";
        var body = new BodyBuilder { TextBody = email.Text, HtmlBody = email.Html };
        foreach (var attachment in attachments ?? [])
        {
            body.Attachments.Add(attachment.FileName, attachment.Content, ContentType.Parse(attachment.ContentType));
        }
        message.Body = body.ToMessageBody();

        if (!string.IsNullOrEmpty(options.PickupDirectory))
        {
            Directory.CreateDirectory(options.PickupDirectory);
            var path = Path.Combine(options.PickupDirectory, $"{messageId:N}.eml");
            await message.WriteToAsync(path, cancellationToken);
            return;
        }

        using var client = new SmtpClient { Timeout = options.Smtp.TimeoutMilliseconds };
        var security = Enum.Parse<SecureSocketOptions>(options.Smtp.Security, ignoreCase: true);
        await client.ConnectAsync(options.Smtp.Host, options.Smtp.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(options.Smtp.Username))
        {
            await client.AuthenticateAsync(options.Smtp.Username, options.Smtp.Password ?? "", cancellationToken);
        }
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}
