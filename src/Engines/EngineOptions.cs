namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>Gets or sets the folder where Data Protection keeps its keys (which encrypt TOTP secrets); empty uses Data Protection's default location.</summary>
    public string? DataProtectionKeysFolder { get; set; }
}
