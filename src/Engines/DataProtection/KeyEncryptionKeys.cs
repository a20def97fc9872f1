using System.Security.Cryptography;

namespace Platform.Engines.DataProtection;

/// <summary>Holds the key encryption keys of the Data Protection key ring: the current one (encrypts new keys) and older ones (decrypt only), each 32 bytes.</summary>
/// <remarks>A key is named by the first 8 bytes of its SHA-256 in hex, stored beside each ciphertext, so rotation needs no trial decryption (ADR 0196).</remarks>
public sealed class KeyEncryptionKeys
{
    private readonly Dictionary<string, byte[]> byId = new(StringComparer.Ordinal);

    /// <summary>Builds the set from base64 values; the current key may be null (no encryption, Development only), each value must decode to 32 bytes.</summary>
    public KeyEncryptionKeys(string? currentBase64, IEnumerable<string> oldBase64)
    {
        if (!string.IsNullOrWhiteSpace(currentBase64))
        {
            Current = Decode(currentBase64, "DataProtection:KeyEncryptionKey");
            CurrentId = IdOf(Current);
            byId[CurrentId] = Current;
        }
        foreach (var old in oldBase64.Where(o => !string.IsNullOrWhiteSpace(o)))
        {
            var key = Decode(old, "DataProtection:OldKeyEncryptionKeys");
            byId.TryAdd(IdOf(key), key);
        }
    }

    /// <summary>Gets the key that encrypts new key ring elements, or null when none is configured.</summary>
    public byte[]? Current { get; }

    /// <summary>Gets the current key's id, or null.</summary>
    public string? CurrentId { get; }

    /// <summary>Finds a key by its id among the current and the old keys, or returns null.</summary>
    public byte[]? Find(string id) => byId.GetValueOrDefault(id);

    /// <summary>Names a key by the first 8 bytes of its SHA-256, in lower-case hex.</summary>
    public static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));

    private static byte[] Decode(string base64, string setting)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{setting} must be base64 of 32 random bytes.");
        }
        return key.Length == 32 ? key : throw new InvalidOperationException($"{setting} must be base64 of 32 random bytes (it has {key.Length}).");
    }
}
