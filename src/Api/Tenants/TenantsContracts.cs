using System.Text.Json;
using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Api.Tenants;

// Request fields are nullable so that a missing one reaches validation and is named there; optional ones default to null.

/// <summary>Asks for a tenant; when_trial_unavailable says what to do when the plan's trial is refused (ADR 0520): refuse (the default,
/// 409 trial_not_available), free (start on the free plan) or paid (start on the plan, suspended until the first subscription).</summary>
public sealed record CreateTenantRequest(string? Name, string? Slug, string? Plan = null, string? BillingEmail = null, string? WhenTrialUnavailable = null);

public sealed record UpdateTenantRequest(string? Name = null, string? BillingEmail = null, JsonElement? Settings = null, string? OnboardingState = null);

/// <summary>Is the wire form of a tenant, with the caller's role in it.</summary>
public sealed record TenantResponse(
    Guid Id, string Name, string Slug, string Plan, TenantStatus Status, DateTimeOffset? TrialEndsAt, string? SuspendedReason,
    string? BillingEmail, int MaxWorkers, int MaxRunsPerDay, int MaxConcurrentRuns, long MaxTokensPerMonth, int MaxApiKeys,
    int RunsToday, int RunsThisMonth, long TokensThisMonth, DateTimeOffset LastRunResetAt, string OnboardingState,
    JsonElement Settings, bool IsSynthetic, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt,
    string? Role)
{
    public static TenantResponse From(TenantSnapshot t, TenantRole? role) => new(
        t.Id, t.Name, t.Slug, t.Plan, t.Status, t.TrialEndsAt, t.SuspendedReason, t.BillingEmail,
        t.MaxWorkers, t.MaxRunsPerDay, t.MaxConcurrentRuns, t.MaxTokensPerMonth, t.MaxApiKeys,
        t.RunsToday, t.RunsThisMonth, t.TokensThisMonth, t.LastRunResetAt, t.OnboardingState,
        JsonDocument.Parse(t.Settings).RootElement.Clone(), t.IsSynthetic, t.CreatedAt, t.UpdatedAt, t.DeletedAt,
        role?.ToWire());

    public static TenantResponse From(TenantMembershipSnapshot m) => From(m.Tenant, m.Role);
}
