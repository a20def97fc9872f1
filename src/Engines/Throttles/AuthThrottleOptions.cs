using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Throttles;

/// <summary>Holds the limits of secret checks per account and per client IP (0 turns one off) and the bound of concurrent bcrypt work (keys of section "Auth").</summary>
public sealed class AuthThrottleOptions
{
    private const int MostPerWindow = 1_000_000;

    /// <summary>Gets or sets how many failed logins one email may have per minute (Auth:LoginAttemptsPerMinutePerAccount).</summary>
    [Range(0, MostPerWindow)]
    public int LoginAttemptsPerMinutePerAccount { get; set; } = 5;

    /// <summary>Gets or sets how many user login attempts, failed or not, one client IP may make per minute (Auth:LoginAttemptsPerMinutePerIp).</summary>
    [Range(0, MostPerWindow)]
    public int LoginAttemptsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets how many operator login attempts one client IP may make per minute, across all instances (Auth:OperatorLoginsPerMinutePerIp).</summary>
    [Range(0, MostPerWindow)]
    public int OperatorLoginsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets how many wrong TOTP codes one operator may send per minute, at login and enrolment together (Auth:TotpAttemptsPerMinutePerOperator).</summary>
    [Range(0, MostPerWindow)]
    public int TotpAttemptsPerMinutePerOperator { get; set; } = 5;

    /// <summary>Gets or sets how many unknown invitation tokens one user may try per minute (Auth:InvitationAttemptsPerMinutePerUser).</summary>
    [Range(0, MostPerWindow)]
    public int InvitationAttemptsPerMinutePerUser { get; set; } = 10;

    /// <summary>Gets or sets how many invitation acceptances one client IP may make per minute (Auth:InvitationAttemptsPerMinutePerIp).</summary>
    [Range(0, MostPerWindow)]
    public int InvitationAttemptsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets how many sign-ups one client IP may make per hour (Auth:SignUpsPerHourPerIp).</summary>
    [Range(0, MostPerWindow)]
    public int SignUpsPerHourPerIp { get; set; } = 20;

    /// <summary>Gets or sets how many bcrypt hashes or verifications may run at once in this process (Auth:PasswordHashingConcurrency; the processor count).</summary>
    [Range(1, 1024)]
    public int PasswordHashingConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Gets or sets how long a password check waits for a free bcrypt slot before it is refused, in milliseconds (Auth:PasswordHashingWaitMilliseconds).</summary>
    [Range(0, 600_000)]
    public int PasswordHashingWaitMilliseconds { get; set; } = 100;
}
