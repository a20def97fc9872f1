using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Users;

/// <summary>Holds the settings of the account flows: session and token lifetimes, the session check's cache and the email flows' limits (keys of section "Accounts").</summary>
public sealed class AccountOptions
{
    /// <summary>Gets or sets after how many days without a refresh a session ends (Accounts:RefreshTokenIdleDays).</summary>
    [Range(1, 365)]
    public int RefreshTokenIdleDays { get; set; } = 30;

    /// <summary>Gets or sets how many days a session lasts at most, refreshed or not (Accounts:RefreshTokenLifetimeDays).</summary>
    [Range(1, 3650)]
    public int RefreshTokenLifetimeDays { get; set; } = 90;

    /// <summary>Gets or sets how long an instance trusts its last answer to "is this session live?", in seconds: the longest a session revoked on another instance stays usable here (Accounts:SessionCheckSeconds; 0 checks on every request).</summary>
    [Range(0, 300)]
    public int SessionCheckSeconds { get; set; } = 5;

    /// <summary>Gets or sets how many hours an email verification link works (Accounts:VerificationTokenHours).</summary>
    [Range(1, 24 * 30)]
    public int VerificationTokenHours { get; set; } = 24;

    /// <summary>Gets or sets how many minutes a password reset link works (Accounts:ResetTokenMinutes).</summary>
    [Range(5, 24 * 60)]
    public int ResetTokenMinutes { get; set; } = 60;

    /// <summary>Gets or sets how many verification emails one user may ask for per hour (Accounts:VerificationResendsPerHour; 0 turns the limit off).</summary>
    [Range(0, 1_000_000)]
    public int VerificationResendsPerHour { get; set; } = 3;

    /// <summary>Gets or sets how many password reset requests one email may get per hour (Accounts:PasswordResetsPerHourPerEmail; 0 turns the limit off).</summary>
    [Range(0, 1_000_000)]
    public int PasswordResetsPerHourPerEmail { get; set; } = 3;

    /// <summary>Gets or sets how many password reset requests one client IP may make per hour (Accounts:PasswordResetsPerHourPerIp; 0 turns the limit off).</summary>
    [Range(0, 1_000_000)]
    public int PasswordResetsPerHourPerIp { get; set; } = 20;

    /// <summary>Gets or sets how many wrong current passwords one user may send to the change-password route per minute (Accounts:PasswordChangeFailuresPerMinute; 0 turns the limit off).</summary>
    [Range(0, 1_000_000)]
    public int PasswordChangeFailuresPerMinute { get; set; } = 5;
}
