using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Platform.Engines.Webhooks;

/// <summary>Creates endpoints' signing secrets (<c>whsec_</c> + base64 of 32 random bytes, as Svix and the Standard Webhooks libraries read them)
/// and keeps them encrypted at rest with Data Protection under <see cref="Purpose"/>; the delivery side unprotects them with the same purpose.</summary>
public static class WebhookSecrets
{
    /// <summary>Is the Data Protection purpose of webhook_endpoints.secret and previous_secret (shared with the dispatcher: do not change).</summary>
    public const string Purpose = "Platform.Webhooks.Secret.v1";

    public const string Prefix = "whsec_";

    /// <summary>Is the size of a generated secret's key, in bytes.</summary>
    public const int KeyBytes = 32;

    /// <summary>Are the sizes a caller-supplied secret's key may have, in bytes (Svix accepts 24-64).</summary>
    public const int MinKeyBytes = 24;
    public const int MaxKeyBytes = 64;

    /// <summary>Creates a new secret: whsec_ + standard base64 (with padding) of 32 bytes from the system's CSPRNG.</summary>
    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>Reads the key bytes of a secret, or null when it is not whsec_ + standard base64 of 24-64 bytes.</summary>
    public static byte[]? KeyOf(string? secret)
    {
        if (secret is null || !secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > Prefix.Length + 100)
        {
            return null;
        }
        var text = secret[Prefix.Length..];
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) && written is >= MinKeyBytes and <= MaxKeyBytes
            && Convert.ToBase64String(buffer, 0, written) == text
            ? buffer[..written]
            : null;
    }

    /// <summary>Tells whether a caller-supplied secret is usable: whsec_ + canonical standard base64 of 24-64 bytes.</summary>
    public static bool IsValid(string? secret) => KeyOf(secret) is not null;

    /// <summary>Encrypts a secret for webhook_endpoints.secret.</summary>
    public static string Protect(IDataProtectionProvider dataProtection, string secret) => dataProtection.CreateProtector(Purpose).Protect(secret);

    /// <summary>Decrypts a stored secret.</summary>
    public static string Unprotect(IDataProtectionProvider dataProtection, string protectedSecret) =>
        dataProtection.CreateProtector(Purpose).Unprotect(protectedSecret);
}
