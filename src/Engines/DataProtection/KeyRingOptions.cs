namespace Platform.Engines.DataProtection;

/// <summary>Holds the settings of the Data Protection key ring kept in PostgreSQL (section "DataProtection", ADR 0196).</summary>
public sealed class KeyRingOptions
{
    /// <summary>Gets or sets the base64 of the 32-byte key that encrypts the key ring at rest (DataProtection:KeyEncryptionKey); required outside Development.</summary>
    public string? KeyEncryptionKey { get; set; }

    /// <summary>Gets or sets former key encryption keys, base64, that still decrypt keys stored before a rotation (DataProtection:OldKeyEncryptionKeys,
    /// separated by commas, semicolons or spaces).</summary>
    public string? OldKeyEncryptionKeys { get; set; }

    /// <summary>Gets or sets the former key folder (DataProtection:KeysFolder): keys found there are imported once into PostgreSQL.</summary>
    public string? KeysFolder { get; set; }

    /// <summary>Lists <see cref="OldKeyEncryptionKeys"/> one key at a time.</summary>
    public IReadOnlyList<string> OldKeys() =>
        (OldKeyEncryptionKeys ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
