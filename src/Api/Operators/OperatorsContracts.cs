using System.Text.Json;
using Platform.Api.Tenants;
using Platform.Models;
using Platform.Models.Operators;

namespace Platform.Api.Operators;

// Requests of the operator console; fields are nullable so that validation names a missing one, and optional ones default to null.

public sealed record OperatorLogInRequest(string? Email, string? Password, string? TotpCode = null);

public sealed record FounderReasonRequest(string? ReasonCode = null, string? ReasonNote = null);

public sealed record QuotaOverrideActionRequest(long? Value, string? ReasonCode, string? ReasonNote = null);

public sealed record UserTenantCapRequest(int? Value, string? ReasonCode, string? ReasonNote = null);

public sealed record GrantTrialRequest(string? Plan, string? ReasonCode, string? ReasonNote = null);

/// <summary>Is the wire form of a user who met fair-use limits (ADR 0520).</summary>
public sealed record CappedUserResponse(
    Guid UserId, string? Email, IReadOnlyList<string> Rules, int Refusals, DateTimeOffset FirstRefusedAt, DateTimeOffset LastRefusedAt,
    string LastDetail, int OwnedTenants, int? TenantCapOverride)
{
    public static CappedUserResponse From(Models.Tenants.CappedUser u) =>
        new(u.UserId, u.Email, u.Rules, u.Refusals, u.FirstAt, u.LastAt, u.LastDetail, u.OwnedTenants, u.CapOverride);
}

public sealed record CreateOperatorRequest(
    string? Email, string? Name, string? Role, string? Password, bool? EnableTotp = null, string? ReasonCode = null, string? ReasonNote = null);

public sealed record ChangeOperatorRoleRequest(string? Role, string? ReasonCode = null, string? ReasonNote = null);

public sealed record ConfirmTotpRequest(string? Code);

/// <summary>Is the wire form of an operator (never its secrets).</summary>
public sealed record OperatorResponse(
    Guid Id, string Email, string Name, string Role, bool TotpEnabled, DateTimeOffset? LastLoginAt, string? LastLoginIp, DateTimeOffset CreatedAt,
    OperatorStatus Status, bool TotpEnrolmentRequired)
{
    public static OperatorResponse From(OperatorSnapshot o) =>
        new(o.Id, o.Email, o.Name, o.Role.ToWire(), o.TotpEnabled, o.LastLoginAt, o.LastLoginIp, o.CreatedAt, o.Status, o.TotpEnrolmentRequired);
}

public sealed record OperatorLogInResponse(string AccessToken, string TokenType, int ExpiresIn, bool MfaVerified, OperatorResponse Operator);

/// <summary>Is the wire form of a founder action.</summary>
public sealed record FounderActionResponse(
    Guid Id, string ActionType, string TargetType, string TargetId, Guid? TenantId, string ReasonCode, string? ReasonNote,
    Guid OperatorId, bool MfaVerified, bool Reversible, Guid? ReversesActionId, Guid? ReversedByActionId, JsonElement Details,
    DateTimeOffset AppliedAt)
{
    public static FounderActionResponse From(FounderActionSnapshot a) => new(
        a.Id, a.ActionType, a.TargetType, a.TargetId, a.TargetTenantId, a.ReasonCode, a.ReasonNote, a.OperatorId, a.MfaVerified,
        a.Reversible, a.ReversesActionId, a.ReversedByActionId, JsonDocument.Parse(a.Details).RootElement.Clone(), a.AppliedAt);
}

/// <summary>Is the operator console's view of a tenant with its counters.</summary>
public sealed record AdminTenantResponse(TenantResponse Tenant, long Members, long OpenSupportTickets, long FounderActions)
{
    public static AdminTenantResponse From(AdminTenantDetail d) =>
        new(TenantResponse.From(d.Tenant, null), d.Members, d.OpenSupportTickets, d.FounderActions);
}

/// <summary>Is a created operator with its TOTP secret and otpauth:// URI, shown once (null without TOTP).</summary>
public sealed record CreatedOperatorResponse(OperatorResponse Operator, string? TotpSecret, string? OtpauthUri)
{
    public static CreatedOperatorResponse From(CreatedOperator c) => new(OperatorResponse.From(c.Operator), c.TotpSecret, c.OtpAuthUri);
}

/// <summary>Is a TOTP secret to enrol (base32) and its otpauth:// URI, shown once.</summary>
public sealed record TotpEnrolmentResponse(string TotpSecret, string OtpauthUri)
{
    public static TotpEnrolmentResponse From(TotpEnrolment e) => new(e.TotpSecret, e.OtpAuthUri);
}

/// <summary>Is the body of POST /v1/admin/me/password.</summary>
public sealed record OperatorPasswordRequest(string? CurrentPassword, string? NewPassword);
