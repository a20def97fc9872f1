using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Engines.Invitations;

/// <summary>Makes invitation tokens (256 random bits, base64url, prefixed "inv_") and their SHA-256 hashes, the only form stored.</summary>
internal static class InvitationTokens
{
    public const string Prefix = "inv_";

    public static (string Token, byte[] Hash) New()
    {
        var token = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static string AcceptUrl(string linkBaseUrl, string token) =>
        $"{linkBaseUrl.TrimEnd('/')}/invitations/accept?token={Uri.EscapeDataString(token)}";
}
