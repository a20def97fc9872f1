using System.Security.Cryptography;
using System.Text;
using System.Buffers.Text;

namespace Platform.Engines.Users;

/// <summary>Makes and hashes the account secrets: refresh tokens (rt_), email verification (vfy_) and password reset (rst_) tokens, each a prefix and 256 random bits in base64url; only SHA-256 hashes are stored.</summary>
internal static class AccountSecrets
{
    public const string RefreshPrefix = "rt_";
    public const string VerifyPrefix = "vfy_";
    public const string ResetPrefix = "rst_";

    /// <summary>Makes a new secret with the prefix and its hash.</summary>
    public static (string Secret, byte[] Hash) New(string prefix)
    {
        var secret = prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (secret, Hash(secret));
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Says whether a presented value has the prefix and the length of a secret made by New (43 base64url characters after the prefix).</summary>
    public static bool LooksLike(string? value, string prefix) =>
        value is not null && value.Length == prefix.Length + 43 && value.StartsWith(prefix, StringComparison.Ordinal)
        && value.AsSpan(prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;
}
