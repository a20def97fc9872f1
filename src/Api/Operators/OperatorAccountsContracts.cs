using Platform.Models.Operators;

namespace Platform.Api.Contracts;

// Requests and responses of operator management under /v1/admin; every request field is nullable so that validation names a missing one.

public sealed record CreateOperatorRequest(
    string? Email, string? Name, string? Role, string? Password, bool? EnableTotp, string? ReasonCode, string? ReasonNote);

public sealed record ChangeOperatorRoleRequest(string? Role, string? ReasonCode, string? ReasonNote);

public sealed record ConfirmTotpRequest(string? Code);

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
