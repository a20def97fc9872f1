namespace Platform.Engines;

/// <summary>Holds the engines' settings.</summary>
public sealed class EngineOptions
{
    /// <summary>Gets or sets bcrypt's work factor for new password hashes; never below 12.</summary>
    public int BcryptWorkFactor { get; set; } = 12;

    /// <summary>Gets or sets how long a run may stay running before the timeout job fails it and frees its slot.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how often the timeout job looks for runs past their timeout.</summary>
    public TimeSpan RunTimeoutSweepInterval { get; set; } = TimeSpan.FromSeconds(30);
}
