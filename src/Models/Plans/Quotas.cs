namespace Platform.Models.Plans;

/// <summary>Names every quota of a plan (the keys of per-tenant overrides) and reads a quota's value from plan limits; -1 means unlimited.</summary>
public static class Quotas
{
    public const string MaxWorkers = "max_workers";
    public const string MaxRunsPerDay = "max_runs_per_day";
    public const string MaxConcurrentRuns = "max_concurrent_runs";
    public const string MaxTokensPerMonth = "max_tokens_per_month";
    public const string MaxApiKeys = "max_api_keys";
    public const string Members = "members";
    public const string ApiCallsPerMonth = "api_calls_per_month";
    public const string StorageGb = "storage_gb";
    public const string GpuHoursPerMonth = "gpu_hours_per_month";
    public const string RetentionDays = "retention_days";
    public const string CreditsPerMonth = "credits_per_month";
    public const string WebhookEndpoints = "webhook_endpoints";

    public static IReadOnlyList<string> All { get; } =
    [
        MaxWorkers, MaxRunsPerDay, MaxConcurrentRuns, MaxTokensPerMonth, MaxApiKeys, Members,
        ApiCallsPerMonth, StorageGb, GpuHoursPerMonth, RetentionDays, CreditsPerMonth, WebhookEndpoints,
    ];

    public static bool IsKnown(string? quota) => quota is not null && All.Contains(quota);

    /// <summary>Tells whether a quota is held in an int column (the others are bigint).</summary>
    public static bool IsInt32(string quota) =>
        quota is MaxWorkers or MaxRunsPerDay or MaxConcurrentRuns or MaxApiKeys or Members or RetentionDays or WebhookEndpoints;

    /// <summary>Reads one quota of plan limits by name.</summary>
    public static long ValueOf(PlanLimits limits, string quota) => quota switch
    {
        MaxWorkers => limits.MaxWorkers,
        MaxRunsPerDay => limits.MaxRunsPerDay,
        MaxConcurrentRuns => limits.MaxConcurrentRuns,
        MaxTokensPerMonth => limits.MaxTokensPerMonth,
        MaxApiKeys => limits.MaxApiKeys,
        Members => limits.Members,
        ApiCallsPerMonth => limits.ApiCallsPerMonth,
        StorageGb => limits.StorageGb,
        GpuHoursPerMonth => limits.GpuHoursPerMonth,
        RetentionDays => limits.RetentionDays,
        CreditsPerMonth => limits.CreditsPerMonth,
        WebhookEndpoints => limits.WebhookEndpoints,
        _ => throw new ArgumentOutOfRangeException(nameof(quota), quota, "Unknown quota."),
    };

    /// <summary>Applies overrides (quota name to value) on top of plan limits and returns the effective limits.</summary>
    public static PlanLimits Apply(PlanLimits limits, IReadOnlyDictionary<string, long> overrides)
    {
        long Get(string quota) => overrides.TryGetValue(quota, out var value) ? value : ValueOf(limits, quota);
        return new PlanLimits(
            (int)Get(MaxWorkers), (int)Get(MaxRunsPerDay), (int)Get(MaxConcurrentRuns), Get(MaxTokensPerMonth), (int)Get(MaxApiKeys),
            (int)Get(Members), Get(ApiCallsPerMonth), Get(StorageGb), Get(GpuHoursPerMonth), (int)Get(RetentionDays), Get(CreditsPerMonth),
            (int)Get(WebhookEndpoints));
    }

    /// <summary>Gets the quota columns of the tenants row from effective limits.</summary>
    public static Tenants.PlanQuotas ToTenantQuotas(PlanLimits limits) => new(
        limits.MaxWorkers, limits.MaxRunsPerDay, limits.MaxConcurrentRuns, limits.MaxTokensPerMonth, limits.MaxApiKeys);

    /// <summary>Gets the quota columns of a tenant row.</summary>
    public static Tenants.PlanQuotas ToTenantQuotasOf(Tenants.TenantSnapshot tenant) => new(
        tenant.MaxWorkers, tenant.MaxRunsPerDay, tenant.MaxConcurrentRuns, tenant.MaxTokensPerMonth, tenant.MaxApiKeys);
}

/// <summary>Holds one per-tenant quota override: the quota's name, its value (-1 unlimited), why it was set and by whom.</summary>
public sealed record QuotaOverride(Guid TenantId, string Quota, long Value, string? Reason, string SetBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Holds what a tenant's effective plan grants: the plan, its features, the effective quotas (plan then overrides) and the overrides themselves.</summary>
public sealed record Entitlements(Guid TenantId, Plan Plan, IReadOnlySet<string> Features, PlanLimits Quotas, IReadOnlyList<QuotaOverride> Overrides)
{
    /// <summary>Gets the operator's feature overrides already applied to <see cref="Features"/>.</summary>
    public IReadOnlyList<FeatureOverride> FeatureOverrides { get; init; } = [];

    public bool HasFeature(string feature) => Features.Contains(feature);
}
