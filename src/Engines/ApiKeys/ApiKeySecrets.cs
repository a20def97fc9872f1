using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Platform.Models.ApiKeys;

namespace Platform.Engines.ApiKeys;

/// <summary>Makes key secrets (the fixed prefix and 256 random bits, base64url) and their SHA-256 hashes; only the hash and a short display prefix are stored.</summary>
internal static class ApiKeySecrets
{
    private const int RandomBytes = 32;
    private const int RandomChars = 43;

    /// <summary>Is how many characters of the secret are kept for display: the fixed prefix and 8 random characters (48 of 256 bits).</summary>
    public const int DisplayLength = 16;

    public static string NewSecret() =>
        ApiKeyPermissions.SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>Tells whether a string has the shape of a key secret, before any hashing or database look-up.</summary>
    public static bool HasKeyShape(string secret) =>
        secret.Length == ApiKeyPermissions.SecretPrefix.Length + RandomChars
        && secret.StartsWith(ApiKeyPermissions.SecretPrefix, StringComparison.Ordinal)
        && Base64Url.IsValid(secret.AsSpan(ApiKeyPermissions.SecretPrefix.Length));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string DisplayPrefix(string secret) => secret[..DisplayLength];
}
