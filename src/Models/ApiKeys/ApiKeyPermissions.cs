namespace Platform.Models.ApiKeys;

/// <summary>Names the permissions an API key can hold and the fixed readable prefix of every key secret.</summary>
public static class ApiKeyPermissions
{
    public const string RunsRead = "runs:read";
    public const string RunsWrite = "runs:write";
    public const string UsageRead = "usage:read";
    public const string UsageWrite = "usage:write";
    public const string WorkersRead = "workers:read";

    /// <summary>Lets a key ask POST /quota-checks whether an amount may be spent, and reserve it (ADR 0710).</summary>
    public const string QuotaCheck = "quota:check";

    /// <summary>Is the prefix of every key secret; it tells keys apart from user tokens and lets secret scanners find leaked keys.</summary>
    public const string SecretPrefix = "pk_live_";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        RunsRead, RunsWrite, UsageRead, UsageWrite, WorkersRead, QuotaCheck,
    };

    public static bool IsKnown(string? permission) => permission is not null && All.Contains(permission);
}
