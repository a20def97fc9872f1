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

    /// <summary>Gets the plan's prices in the currencies other than its primary one (ADR 0720).</summary>
    public IReadOnlyList<PlanPrice> OtherPrices { get; init; } = [];

    /// <summary>Gets every price of the plan: the primary currency's first, then the others.</summary>
    public IReadOnlyList<PlanPrice> Prices => [new PlanPrice(Currency, PriceMonthlyCents, PriceYearlyCents), .. OtherPrices];

    /// <summary>Gets the plan's price in a currency (lower-case ISO 4217), or null when the plan is not sold in it.</summary>
    public PlanPrice? PriceIn(string currency) => Prices.FirstOrDefault(p => p.Currency == currency);

    /// <summary>Gets the plan's price in a currency, throwing when the plan is not sold in it.</summary>
    public PlanPrice GetPriceIn(string currency) =>
        PriceIn(currency) ?? throw new ArgumentException($"The plan '{Id}' has no price in '{currency}'.", nameof(currency));

    public PlanQuotas TenantQuotas => new(
        Limits.MaxWorkers, Limits.MaxRunsPerDay, Limits.MaxConcurrentRuns, Limits.MaxTokensPerMonth, Limits.MaxApiKeys);

    /// <summary>Gets the quotas of a trial of this plan (never unlimited: no -1 in them, ADR 0520), or null when the plan has no trial (free).</summary>
    public PlanLimits? TrialLimits { get; init; }

    /// <summary>Gets the family a trial of this plan counts against: one self-serve trial per user and family (ADR 0520). Each plan is its own family today.</summary>
    public string Family => Id;

    /// <summary>Gets the quota columns of a tenant trialling this plan (the plan's own when it defines no trial limits).</summary>
    public PlanQuotas TrialTenantQuotas => Quotas.ToTenantQuotas(TrialLimits ?? Limits);

    /// <summary>Gets the limits that hold for a tenant of this plan in a status: a trial's own while in trial, the free plan's while it awaits its
    /// first subscription (ADR 0520), the plan's otherwise.</summary>
    public PlanLimits LimitsWhile(TenantStatus status, string? suspendedReason = null) => EffectiveWhile(status, suspendedReason) switch
    {
        var plan when plan != this => plan.Limits,
        _ => status == TenantStatus.Trial && TrialLimits is { } trial ? trial : Limits,
    };

    /// <summary>Gets the plan whose features and limits a tenant of this plan has: the free plan while it awaits its first subscription, this one otherwise.</summary>
    public Plan EffectiveWhile(TenantStatus status, string? suspendedReason) =>
        status == TenantStatus.Suspended && suspendedReason == TenantStatuses.AwaitingSubscriptionReason ? PlanCatalog.Get(PlanCatalog.Free) : this;
}

/// <summary>Holds a plan's price in one currency (lower-case ISO 4217): per month and per year, in minor units (cents).</summary>
public sealed record PlanPrice(string Currency, long MonthlyCents, long YearlyCents);

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
    public const string IpAllowlist = "ip_allowlist";

    public static IReadOnlyList<string> All { get; } = [CustomDomain, Sso, Webhooks, Branding, AuditExport, PrioritySupport, IpAllowlist];

    public static bool IsKnown(string? feature) => feature is not null && All.Contains(feature);

    /// <summary>Gets the features a tenant has: its plan's while it is in trial, active or past due (the dunning grace), none otherwise
    /// (suspended, cancelled, deleted), then the operator's per-tenant overrides on top (ADR 0550).</summary>
    public static IReadOnlySet<string> EffectiveOf(Plan plan, TenantStatus status, string? suspendedReason, IReadOnlyList<FeatureOverride> overrides)
    {
        var features = status is TenantStatus.Trial or TenantStatus.Active or TenantStatus.PastDue
            ? new HashSet<string>(plan.EffectiveWhile(status, suspendedReason).Features, StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in overrides)
        {
            if (o.Enabled)
            {
                features.Add(o.Feature);
            }
            else
            {
                features.Remove(o.Feature);
            }
        }
        return features;
    }

    /// <summary>Gets the features of before that after no longer has, in name order.</summary>
    public static IReadOnlyList<string> Lost(IReadOnlySet<string> before, IReadOnlySet<string> after) =>
        before.Where(f => !after.Contains(f)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Gets the plans of the catalogue that include a feature, in catalogue order.</summary>
    public static IReadOnlyList<string> PlansWith(string feature) => PlanCatalog.All.Where(p => p.HasFeature(feature)).Select(p => p.Id).ToList();
}

/// <summary>Holds one per-tenant feature override set by an operator: the feature granted (enabled) or revoked whatever the plan says, why and by whom.</summary>
public sealed record FeatureOverride(Guid TenantId, string Feature, bool Enabled, string? Reason, string SetBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
