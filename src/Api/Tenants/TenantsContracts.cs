using System.Text.Json;

namespace Platform.Api.Contracts;

// Every field is nullable so that a missing field reaches validation and is named there.

public sealed record SignUpRequest(string? Email, string? Password, string? Name);

public sealed record LogInRequest(string? Email, string? Password);

public sealed record CreateTenantRequest(string? Name, string? Slug, string? Plan, string? BillingEmail);

public sealed record UpdateTenantRequest(string? Name, string? BillingEmail, JsonElement? Settings, string? OnboardingState);

public sealed record ChangeRoleRequest(string? Role);

public sealed record CreateInvitationRequest(string? Email, string? Role);

public sealed record AcceptInvitationRequest(string? Token);
