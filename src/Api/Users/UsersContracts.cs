using System.Text.Json;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Api.Contracts;

/// <summary>Is the wire form of a list page.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Data, string? NextCursor)
{
    public static ListResponse<T> From<TSource>(Page<TSource> page, Func<TSource, T> map) =>
        new(page.Items.Select(map).ToList(), page.NextCursor);
}

/// <summary>Is the wire form of a user.</summary>
public sealed record UserResponse(
    Guid Id, string Email, string Name, string Status, DateTimeOffset? EmailVerifiedAt, Guid? DefaultTenantId,
    DateTimeOffset? LastLoginAt, DateTimeOffset CreatedAt)
{
    public static UserResponse From(UserSnapshot u) =>
        new(u.Id, u.Email, u.Name, u.Status, u.EmailVerifiedAt, u.DefaultTenantId, u.LastLoginAt, u.CreatedAt);
}

/// <summary>Is the wire form of a tenant, with the caller's role in it.</summary>
public sealed record TenantResponse(
    Guid Id, string Name, string Slug, string Plan, string Status, DateTimeOffset? TrialEndsAt, string? SuspendedReason,
    string? BillingEmail, int MaxWorkers, int MaxRunsPerDay, int MaxConcurrentRuns, long MaxTokensPerMonth, int MaxApiKeys,
    int RunsToday, int RunsThisMonth, long TokensThisMonth, DateTimeOffset LastRunResetAt, string OnboardingState,
    JsonElement Settings, bool IsSynthetic, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt,
    string? Role)
{
    public static TenantResponse From(TenantSnapshot t, TenantRole? role) => new(
        t.Id, t.Name, t.Slug, t.Plan, t.Status.ToWire(), t.TrialEndsAt, t.SuspendedReason, t.BillingEmail,
        t.MaxWorkers, t.MaxRunsPerDay, t.MaxConcurrentRuns, t.MaxTokensPerMonth, t.MaxApiKeys,
        t.RunsToday, t.RunsThisMonth, t.TokensThisMonth, t.LastRunResetAt, t.OnboardingState,
        JsonDocument.Parse(t.Settings).RootElement.Clone(), t.IsSynthetic, t.CreatedAt, t.UpdatedAt, t.DeletedAt,
        role?.ToWire());

    public static TenantResponse From(TenantMembershipSnapshot m) => From(m.Tenant, m.Role);
}

/// <summary>Is the wire form of a member.</summary>
public sealed record MemberResponse(Guid UserId, string Email, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static MemberResponse From(MemberSnapshot m) => new(m.UserId, m.Email, m.Name, m.Role.ToWire(), m.CreatedAt, m.UpdatedAt);
}

/// <summary>Is the wire form of one of the signed-in user's memberships.</summary>
public sealed record MembershipResponse(Guid TenantId, string TenantName, string Slug, string Role, string Status, string Plan)
{
    public static MembershipResponse From(TenantMembershipSnapshot m) =>
        new(m.Tenant.Id, m.Tenant.Name, m.Tenant.Slug, m.Role.ToWire(), m.Tenant.Status.ToWire(), m.Tenant.Plan);
}

public sealed record SignUpResponse(UserResponse User, string AccessToken, string TokenType, int ExpiresIn);

public sealed record LogInResponse(string AccessToken, string TokenType, int ExpiresIn, UserResponse User);

public sealed record MeResponse(UserResponse User, IReadOnlyList<MembershipResponse> Memberships);

public sealed record StatusResponse(string Status);
