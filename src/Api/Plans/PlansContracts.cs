using Platform.Models.Plans;

namespace Platform.Api.Plans;

/// <summary>Is the wire form of a catalogue plan: prices in cents, quotas (-1 unlimited) and features.</summary>
/// <summary>Is a plan of the catalogue; trial_quotas are the limits while a tenant trials it (never -1, ADR 0520), null for a plan without a trial.</summary>
public sealed record PlanResponse(string Id, string Name, string Currency, long PriceMonthlyCents, long PriceYearlyCents, PlanLimits Quotas, IReadOnlyList<string> Features, int TrialDays, PlanLimits? TrialQuotas)
{
    /// <summary>Gets the plan's price in every currency it is sold in (usd first; ADR 0720).</summary>
    public IReadOnlyList<PlanPrice> Prices { get; init; } = [];
}

/// <summary>Is the wire form of what a tenant's effective plan grants: features, quotas (plan then overrides; -1 unlimited) and the overrides.</summary>
public sealed record EntitlementsResponse(
    Guid TenantId, string Plan, IReadOnlyList<string> Features, IReadOnlyDictionary<string, bool> AllFeatures,
    IReadOnlyDictionary<string, long> Quotas, IReadOnlyList<QuotaOverrideResponse> Overrides)
{
    public static EntitlementsResponse From(Entitlements e) => new(
        e.TenantId, e.Plan.Id, e.Features.Order().ToList(),
        Models.Plans.Features.All.ToDictionary(f => f, e.HasFeature),
        Models.Plans.Quotas.All.ToDictionary(q => q, q => Models.Plans.Quotas.ValueOf(e.Quotas, q)),
        e.Overrides.Select(o => new QuotaOverrideResponse(o.Quota, o.Value, o.Reason, o.UpdatedAt)).ToList());
}

public sealed record QuotaOverrideResponse(string Quota, long Value, string? Reason, DateTimeOffset UpdatedAt);
