using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Drivers.Tenants;

/// <summary>Is the Dapper-shaped row of tenants; it never leaves the drivers.</summary>
internal sealed class TenantRow
{
    public const string Columns =
        """
        t.id, t.name, t.slug, t.plan, t.status, t.trial_ends_at, t.suspended_reason, t.billing_email,
        t.max_workers, t.max_runs_per_day, t.max_concurrent_runs, t.max_tokens_per_month, t.max_api_keys,
        (SELECT x.runs_today FROM run_stripe_totals(t.id, 'tenant') x) AS runs_today,
        (SELECT x.runs_this_month FROM run_stripe_totals(t.id, 'tenant') x) AS runs_this_month, t.tokens_this_month, t.last_run_reset_at, t.onboarding_state,
        t.settings::text AS settings, t.is_synthetic, t.created_at, t.updated_at, t.deleted_at
        """;

    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Slug { get; init; } = "";
    public string Plan { get; init; } = "";
    public string Status { get; init; } = "";
    public DateTime? TrialEndsAt { get; init; }
    public string? SuspendedReason { get; init; }
    public string? BillingEmail { get; init; }
    public int MaxWorkers { get; init; }
    public int MaxRunsPerDay { get; init; }
    public int MaxConcurrentRuns { get; init; }
    public long MaxTokensPerMonth { get; init; }
    public int MaxApiKeys { get; init; }
    public int RunsToday { get; init; }
    public int RunsThisMonth { get; init; }
    public long TokensThisMonth { get; init; }
    public DateTime LastRunResetAt { get; init; }
    public string OnboardingState { get; init; } = "";
    public string Settings { get; init; } = "{}";
    public bool IsSynthetic { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? DeletedAt { get; init; }

    /// <summary>Gets the caller's role when the row was read together with a membership.</summary>
    public string? Role { get; init; }

    public TenantSnapshot ToSnapshot() => new(
        Id, Name, Slug, Plan, WireNames.Parse<TenantStatus>(Status), Users.UtcTimes.ToUtcOffset(TrialEndsAt), SuspendedReason, BillingEmail,
        MaxWorkers, MaxRunsPerDay, MaxConcurrentRuns, MaxTokensPerMonth, MaxApiKeys,
        RunsToday, RunsThisMonth, TokensThisMonth, Users.UtcTimes.ToUtcOffset(LastRunResetAt), OnboardingState,
        Settings, IsSynthetic, Users.UtcTimes.ToUtcOffset(CreatedAt), Users.UtcTimes.ToUtcOffset(UpdatedAt), Users.UtcTimes.ToUtcOffset(DeletedAt));

    public TenantMembershipSnapshot ToMembershipSnapshot() =>
        new(ToSnapshot(), WireNames.Parse<TenantRole>(Role ?? throw new InvalidOperationException("The row was read without a role.")));
}
