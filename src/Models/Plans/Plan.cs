using Platform.Models.Tenants;

namespace Platform.Models.Plans;

/// <summary>Describes one plan of the catalogue: prices in cents, quotas (-1 means unlimited) and feature flags.</summary>
public sealed record Plan(
    string Id,
    string Name,
    string Currency,
    long PriceMonthlyCents,
    long PriceYearlyCents,
    PlanLimits Limits,
    IReadOnlySet<string> Features,
    int TrialDays)
{
    public bool HasFeature(string feature) => Features.Contains(feature);

    public PlanQuotas TenantQuotas => new(
        Limits.MaxWorkers, Limits.MaxRunsPerDay, Limits.MaxConcurrentRuns, Limits.MaxTokensPerMonth, Limits.MaxApiKeys);
}

/// <summary>Holds a plan's quotas; -1 means unlimited. Units: runs per UTC day, tokens and API calls per month, GB, GPU hours per month, days, credits per month, webhook endpoints.</summary>
public sealed record PlanLimits(
    int MaxWorkers,
    int MaxRunsPerDay,
    int MaxConcurrentRuns,
    long MaxTokensPerMonth,
    int MaxApiKeys,
    int Members,
    long ApiCallsPerMonth,
    long StorageGb,
    long GpuHoursPerMonth,
    int RetentionDays,
    long CreditsPerMonth,
    int WebhookEndpoints = 0);

/// <summary>Names the feature flags plans can grant.</summary>
public static class Features
{
    public const string CustomDomain = "custom_domain";
    public const string Sso = "sso";
    public const string Webhooks = "webhooks";
    public const string Branding = "branding";
    public const string AuditExport = "audit_export";
    public const string PrioritySupport = "priority_support";

    public static IReadOnlyList<string> All { get; } = [CustomDomain, Sso, Webhooks, Branding, AuditExport, PrioritySupport];
}
