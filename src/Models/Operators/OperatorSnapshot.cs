namespace Platform.Models.Operators;

/// <summary>Is an operator (a member of the company's staff, not a tenant user) without any secret.</summary>
public sealed record OperatorSnapshot(
    Guid Id,
    string Email,
    string Name,
    OperatorRole Role,
    bool TotpEnabled,
    OperatorStatus Status,
    int FailedAttempts,
    DateTimeOffset? LockedUntil,
    DateTimeOffset? LastLoginAt,
    string? LastLoginIp,
    DateTimeOffset CreatedAt)
{
    /// <summary>Gets whether the operator must enrol TOTP before anything else (after a reset, or promoted to super_admin without it).</summary>
    public bool TotpEnrolmentRequired { get; init; }

    /// <summary>Gets whether the operator's requests need a token whose TOTP was verified: enrolled, super_admin, or due to enrol.</summary>
    public bool NeedsMfa => TotpEnabled || Role == OperatorRole.SuperAdmin || TotpEnrolmentRequired;
}

/// <summary>Holds what a login checks: the operator, the password hash and the protected TOTP secret.</summary>
public sealed record OperatorCredentials(OperatorSnapshot Operator, string PasswordHash, string? TotpSecretProtected);

/// <summary>Holds a new operator row; the password is already hashed and the TOTP secret already protected.</summary>
public sealed record NewOperator(
    Guid Id, string Email, string Name, OperatorRole Role, string PasswordHash, string? TotpSecretProtected, bool TotpEnabled, DateTimeOffset Now);

/// <summary>Tells how a reserved login attempt stands: admitted (counted as failed until it succeeds), or refused while locked until a time.</summary>
public sealed record LoginAttempt(bool Admitted, int FailedAttempts, DateTimeOffset? LockedUntil);

/// <summary>Is a freshly created operator with its TOTP secret (base32), shown once.</summary>
public sealed record CreatedOperator(OperatorSnapshot Operator, string? TotpSecret, string? OtpAuthUri);

/// <summary>Is a successful operator login: the operator and whether a TOTP code was verified.</summary>
public sealed record OperatorLogin(OperatorSnapshot Operator, bool MfaVerified);

/// <summary>Is a TOTP secret handed out for enrolment (base32) with its otpauth:// URI, shown once.</summary>
public sealed record TotpEnrolment(string TotpSecret, string OtpAuthUri);
