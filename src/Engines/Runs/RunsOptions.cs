using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Runs;

/// <summary>Holds the runs' settings (keys of section "Platform").</summary>
public sealed class RunsOptions
{
    /// <summary>Gets or sets how long a run may stay running before the timeout job fails it and frees its slot, in seconds (Platform:RunTimeoutSeconds).</summary>
    [Range(1, 2_678_400)]
    public int RunTimeoutSeconds { get; set; } = 1800;

    /// <summary>Gets <see cref="RunTimeoutSeconds"/> as a time span.</summary>
    public TimeSpan RunTimeout => TimeSpan.FromSeconds(RunTimeoutSeconds);
}
