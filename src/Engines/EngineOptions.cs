namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;
}
