using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Api.Users;

// Request fields are nullable so that a missing one reaches validation and is named there.

public sealed record SignUpRequest(string? Email, string? Password, string? Name);

public sealed record LogInRequest(string? Email, string? Password);

/// <summary>Is the wire form of a user.</summary>
public sealed record UserResponse(
    Guid Id, string Email, string Name, UserStatus Status, DateTimeOffset? EmailVerifiedAt, Guid? DefaultTenantId,
    DateTimeOffset? LastLoginAt, DateTimeOffset CreatedAt)
{
    public static UserResponse From(UserSnapshot u) =>
        new(u.Id, u.Email, u.Name, u.Status, u.EmailVerifiedAt, u.DefaultTenantId, u.LastLoginAt, u.CreatedAt);
}

/// <summary>Is the wire form of one of the signed-in user's memberships.</summary>
public sealed record MembershipResponse(Guid TenantId, string TenantName, string Slug, string Role, TenantStatus Status, string Plan)
{
    public static MembershipResponse From(TenantMembershipSnapshot m) =>
        new(m.Tenant.Id, m.Tenant.Name, m.Tenant.Slug, m.Role.ToWire(), m.Tenant.Status, m.Tenant.Plan);
}

public sealed record SignUpResponse(UserResponse User, string AccessToken, string TokenType, int ExpiresIn);

public sealed record LogInResponse(string AccessToken, string TokenType, int ExpiresIn, UserResponse User);

public sealed record MeResponse(UserResponse User, IReadOnlyList<MembershipResponse> Memberships);
