using Platform.Models.Tenants;

namespace Platform.Models.Plans;

/// <summary>Holds the plan catalogue as data: free, starter, professional and enterprise.</summary>
public static class PlanCatalog
{
    public const string Free = "free";
    public const string Starter = "starter";
    public const string Professional = "professional";
    public const string Enterprise = "enterprise";

    /// <summary>Is the currency every plan is priced in first.</summary>
    public const string Usd = "usd";

    /// <summary>Is the euro, the second currency of the catalogue (ADR 0720).</summary>
    public const string Eur = "eur";

    /// <summary>Gets the currencies a tenant can be billed in (lower-case ISO 4217): every plan has a price in each.</summary>
    public static IReadOnlyList<string> Currencies { get; } = [Usd, Eur];

    /// <summary>Tells whether a currency code (lower-case ISO 4217) is one the catalogue sells in.</summary>
    public static bool IsCurrency(string? currency) => currency is not null && Currencies.Contains(currency);

    /// <summary>Is the number that means "no limit" in every quota.</summary>
    public const int Unlimited = -1;

    public static IReadOnlyList<Plan> All { get; } =
    [
        new(Free, "Free", "usd", 0, 0,
            new PlanLimits(MaxWorkers: 2, MaxRunsPerDay: 100, MaxConcurrentRuns: 2, MaxTokensPerMonth: 100_000, MaxApiKeys: 2,
                Members: 5, ApiCallsPerMonth: 10_000, StorageGb: 10, GpuHoursPerMonth: 5, RetentionDays: 7, CreditsPerMonth: 10, WebhookEndpoints: 0),
            new HashSet<string>(), TrialDays: 14)
        {
            OtherPrices = [new PlanPrice(Eur, 0, 0)],
        },
        new(Starter, "Starter", "usd", 4_900, 49_000,
            new PlanLimits(5, 1_000, 5, 1_000_000, 5, 10, 100_000, 100, 50, 30, 50, WebhookEndpoints: 3),
            new HashSet<string> { Features.Webhooks }, 14)
        {
            OtherPrices = [new PlanPrice(Eur, 4_500, 45_000)],
            // A trial of a plan with finite limits has the plan's own.
            TrialLimits = new PlanLimits(5, 1_000, 5, 1_000_000, 5, 10, 100_000, 100, 50, 30, 50, WebhookEndpoints: 3),
        },
        new(Professional, "Professional", "usd", 19_900, 199_000,
            new PlanLimits(20, 10_000, 20, 10_000_000, 20, 50, 1_000_000, 1_000, 200, 90, 200, WebhookEndpoints: 10),
            new HashSet<string> { Features.Webhooks, Features.CustomDomain, Features.Branding, Features.AuditExport, Features.IpAllowlist }, 14)
        {
            OtherPrices = [new PlanPrice(Eur, 18_500, 185_000)],
            // A trial of a plan with finite limits has the plan's own.
            TrialLimits = new PlanLimits(20, 10_000, 20, 10_000_000, 20, 50, 1_000_000, 1_000, 200, 90, 200, WebhookEndpoints: 10),
        },
        new(Enterprise, "Enterprise", "usd", 99_900, 999_000,
            new PlanLimits(Unlimited, Unlimited, Unlimited, Unlimited, Unlimited, Unlimited, Unlimited, Unlimited, Unlimited, 365, Unlimited, WebhookEndpoints: Unlimited),
            new HashSet<string> { Features.Webhooks, Features.CustomDomain, Features.Branding, Features.AuditExport, Features.Sso, Features.PrioritySupport, Features.IpAllowlist }, 14)
        {
            OtherPrices = [new PlanPrice(Eur, 92_500, 925_000)],
            // Never unlimited in a trial (ADR 0520): the limits of a paid professional tenant, with enterprise's features.
            TrialLimits = new PlanLimits(20, 10_000, 20, 10_000_000, 20, 50, 1_000_000, 1_000, 200, 90, 200, WebhookEndpoints: 10),
        },
    ];

    public static Plan? Find(string? id) => All.FirstOrDefault(p => p.Id == id);

    /// <summary>Gets the limits that hold for a tenant of the plan with this id in a status (see <see cref="Plan.LimitsWhile"/>), or null for an unknown plan.</summary>
    public static PlanLimits? LimitsOf(string? id, TenantStatus status, string? suspendedReason = null) => Find(id)?.LimitsWhile(status, suspendedReason);

    /// <summary>Gets the limits that hold for a tenant now (its plan, status and suspension reason), or null for an unknown plan.</summary>
    public static PlanLimits? LimitsOf(TenantSnapshot tenant) => LimitsOf(tenant.Plan, tenant.Status, tenant.SuspendedReason);

    public static Plan Get(string id) => Find(id) ?? throw new ArgumentException($"Unknown plan '{id}'.", nameof(id));
}
