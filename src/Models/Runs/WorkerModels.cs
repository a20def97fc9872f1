namespace Platform.Models.Runs;

/// <summary>Describes the current version of one worker of the global catalogue: its pricing in integer cents, the credits one run costs (0: none),
/// its lifecycle status, whether every tenant sees it, its default config, the JSON Schemas of a run's input and output, and the tokens a run is
/// expected to use.</summary>
public sealed record WorkerSnapshot(
    string Id,
    string Name,
    string Description,
    long BaseCentsPerRun,
    long CentsPer1kTokens,
    bool UsesCredits,
    long CreditsPerRun = 0,
    string Version = "1.0.0",
    WorkerStatus Status = WorkerStatus.Active,
    bool IsPublic = true,
    string DefaultConfig = "{}",
    string? InputSchema = null,
    string? OutputSchema = null,
    int? TokensPerRunEstimate = null,
    DateTimeOffset? UpdatedAt = null)
{
    /// <summary>Prices a run: the base fee plus the tokens at the per-1,000 rate, rounded up to the next whole cent.</summary>
    public long CostCents(long totalTokens) =>
        BaseCentsPerRun + (totalTokens * CentsPer1kTokens + 999) / 1000;
}

/// <summary>Holds a tenant's settings for one worker; null limits mean no per-worker limit.</summary>
public sealed record WorkerConfigSnapshot(
    Guid TenantId,
    string WorkerId,
    bool Enabled,
    string Config,
    int? MaxRunsPerDay,
    int? MaxTokensPerRun,
    int RunsToday,
    DateTimeOffset? LastRunResetAt,
    DateTimeOffset? UpdatedAt);

/// <summary>Holds the new settings of a tenant's worker config; a null limit means no per-worker limit.</summary>
public sealed record WorkerConfigChanges(bool Enabled, string Config, int? MaxRunsPerDay, int? MaxTokensPerRun);

/// <summary>Is where a worker is in its life: active, deprecated (still runs; listed as such so that tenants move off it) or retired (admits no run).</summary>
[WireEnum]
public enum WorkerStatus
{
    Active,
    Deprecated,
    Retired,
}

/// <summary>Holds the definition an operator publishes as a worker version; the id and version name it.</summary>
public sealed record WorkerDefinition(
    string Id,
    string Version,
    string Name,
    string Description,
    long BaseCentsPerRun,
    long CentsPer1kTokens,
    long CreditsPerRun,
    string DefaultConfig,
    string? InputSchema,
    string? OutputSchema,
    int? TokensPerRunEstimate)
{
    /// <summary>Orders versions "major.minor.patch" numerically; false when the text is not such a version.</summary>
    public static bool TryParseVersion(string? text, out (int Major, int Minor, int Patch) version)
    {
        version = default;
        var parts = text?.Split('.') ?? [];
        if (parts.Length != 3 || parts.Any(p => p.Length is 0 or > 6 || !p.All(char.IsAsciiDigit)))
        {
            return false;
        }
        version = (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>Is true when version a comes after version b (both valid).</summary>
    public static bool IsNewer(string a, string b) =>
        TryParseVersion(a, out var x) && TryParseVersion(b, out var y) && x.CompareTo(y) > 0;
}

/// <summary>Holds one published version of a worker, as kept in the catalogue's history.</summary>
public sealed record WorkerVersionSnapshot(string WorkerId, string Version, DateTimeOffset PublishedAt);
