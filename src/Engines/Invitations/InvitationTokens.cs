using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Platform.Drivers.Sessions;
using Platform.Engines.Email;
using Platform.Models.Email;

namespace Platform.Engines.Invitations;

/// <summary>Makes invitation tokens (256 random bits, base64url, prefixed "inv_") and their SHA-256 hashes, the only form stored, and queues the invitation email with the token protected.</summary>
internal static class InvitationTokens
{
    public const string Prefix = "inv_";

    /// <summary>Names the token among the outbox message's secrets.</summary>
    public const string SecretName = "token";

    public static (string Token, byte[] Hash) New()
    {
        var token = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static string AcceptUrl(string linkBaseUrl, string token) =>
        $"{linkBaseUrl.TrimEnd('/')}/invitations/accept?token={Uri.EscapeDataString(token)}";

    /// <summary>Queues the invitation email rendered around a placeholder link; the token itself is stored encrypted until the message is sent, and expires with the invitation.</summary>
    public static Task<Guid> QueueEmailAsync(
        EmailOutbox emails, IDbSession session, Guid tenantId, string linkBaseUrl, string token, DateTimeOffset expiresAt,
        Func<string, EmailContent> render, CancellationToken cancellationToken) =>
        emails.EnqueueAsync(session, tenantId, EmailTemplates.InvitationKind, render(AcceptUrl(linkBaseUrl, EmailOutbox.Placeholder(SecretName))),
            new Dictionary<string, string> { [SecretName] = token }, expiresAt, cancellationToken);
}
