using System.Text.Json;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Api.Users;

// Request fields are nullable so that a missing one reaches validation and is named there.

/// <summary>Is the body of POST /v1/auth/signup; refresh_cookie true puts the refresh token in an HttpOnly cookie instead of the body.</summary>
public sealed record SignUpRequest(string? Email, string? Password, string? Name, bool? RefreshCookie = null);

/// <summary>Is the body of POST /v1/auth/login; refresh_cookie true puts the refresh token in an HttpOnly cookie instead of the body.</summary>
public sealed record LogInRequest(string? Email, string? Password, bool? RefreshCookie = null);

/// <summary>Is the body of POST /v1/auth/refresh; without refresh_token the platform_refresh cookie is used.</summary>
public sealed record RefreshRequest(string? RefreshToken);

public sealed record LogOutRequest(string? RefreshToken);

public sealed record VerifyEmailRequest(string? Token);

public sealed record ForgotPasswordRequest(string? Email);

public sealed record ResetPasswordRequest(string? Token, string? Password);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>Is the body of PATCH /v1/me: a field left out stays as it is; null clears avatar_url and default_tenant_id.</summary>
public sealed record UpdateMeRequest(JsonElement Name, JsonElement AvatarUrl, JsonElement Preferences, JsonElement DefaultTenantId);

/// <summary>Is the wire form of a user.</summary>
public sealed record UserResponse(
    Guid Id, string Email, string Name, UserStatus Status, bool EmailVerified, DateTimeOffset? EmailVerifiedAt, Guid? DefaultTenantId,
    string? AvatarUrl, JsonElement Preferences, DateTimeOffset? LastLoginAt, DateTimeOffset CreatedAt)
{
    public static UserResponse From(UserSnapshot u)
    {
        using var preferences = JsonDocument.Parse(u.Preferences);
        return new(u.Id, u.Email, u.Name, u.Status, u.EmailVerifiedAt is not null, u.EmailVerifiedAt, u.DefaultTenantId, u.AvatarUrl,
            preferences.RootElement.Clone(), u.LastLoginAt, u.CreatedAt);
    }
}

/// <summary>Is the wire form of one of the signed-in user's memberships.</summary>
public sealed record MembershipResponse(Guid TenantId, string TenantName, string Slug, string Role, TenantStatus Status, string Plan)
{
    public static MembershipResponse From(TenantMembershipSnapshot m) =>
        new(m.Tenant.Id, m.Tenant.Name, m.Tenant.Slug, m.Role.ToWire(), m.Tenant.Status, m.Tenant.Plan);
}

/// <summary>Is the answer of a sign-up; refresh_token is null when it was put in the HttpOnly cookie.</summary>
public sealed record SignUpResponse(UserResponse User, string AccessToken, string TokenType, int ExpiresIn, string? RefreshToken);

/// <summary>Is the answer of a sign-in or refresh; refresh_token is null when it is in the HttpOnly cookie.</summary>
public sealed record LogInResponse(string AccessToken, string TokenType, int ExpiresIn, string? RefreshToken, UserResponse User);

public sealed record MeResponse(UserResponse User, IReadOnlyList<MembershipResponse> Memberships);

/// <summary>Is the wire form of one of the signed-in user's sessions; current is the one of the access token used.</summary>
public sealed record SessionResponse(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? UserAgent, string? Ip, bool Current)
{
    public static SessionResponse From(UserSessionSnapshot s, Guid? current) =>
        new(s.Id, s.CreatedAt, s.LastUsedAt, s.UserAgent, s.Ip, s.Id == current);
}
