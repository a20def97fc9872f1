namespace Platform.Models.Tenants;

/// <summary>Holds a tenant's row as read in one transaction: identity, plan, lifecycle, quotas (per day, per month, in tokens) and counters.</summary>
public sealed record TenantSnapshot(
    Guid Id,
    string Name,
    string Slug,
    string Plan,
    TenantStatus Status,
    DateTimeOffset? TrialEndsAt,
    string? SuspendedReason,
    string? BillingEmail,
    int MaxWorkers,
    int MaxRunsPerDay,
    int MaxConcurrentRuns,
    long MaxTokensPerMonth,
    int MaxApiKeys,
    int RunsToday,
    int RunsThisMonth,
    long TokensThisMonth,
    DateTimeOffset LastRunResetAt,
    string OnboardingState,
    string Settings,
    bool IsSynthetic,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DeletedAt);

/// <summary>Holds a tenant together with the calling user's role in it.</summary>
public sealed record TenantMembershipSnapshot(TenantSnapshot Tenant, TenantRole Role);

/// <summary>Holds one membership row joined with the member's public user fields.</summary>
public sealed record MemberSnapshot(
    Guid TenantId,
    Guid UserId,
    string Email,
    string Name,
    TenantRole Role,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Holds the fields of a new tenant, with quotas taken from its plan.</summary>
public sealed record NewTenant(
    Guid Id,
    string Name,
    string Slug,
    string Plan,
    TenantStatus Status,
    DateTimeOffset TrialEndsAt,
    string? BillingEmail,
    PlanQuotas Quotas,
    DateTimeOffset Now);

/// <summary>Holds the quota columns a plan gives a tenant; -1 means unlimited.</summary>
public sealed record PlanQuotas(
    int MaxWorkers,
    int MaxRunsPerDay,
    int MaxConcurrentRuns,
    long MaxTokensPerMonth,
    int MaxApiKeys);

/// <summary>Holds the optional fields of a tenant update; a null field is left unchanged.</summary>
public sealed record TenantChanges(string? Name, string? BillingEmail, string? Settings, string? OnboardingState);
