namespace Platform.Models.Runs;

/// <summary>Describes one worker of the global registry, its pricing in integer cents and the credits one run costs (0: none).</summary>
public sealed record WorkerSnapshot(
    string Id,
    string Name,
    string Description,
    long BaseCentsPerRun,
    long CentsPer1kTokens,
    bool UsesCredits,
    long CreditsPerRun = 0)
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
