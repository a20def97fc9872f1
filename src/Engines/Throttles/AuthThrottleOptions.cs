using Microsoft.Extensions.Configuration;

namespace Platform.Engines.Throttles;

/// <summary>Holds the limits of secret checks per account and per client IP (0 turns one off) and the bound of concurrent bcrypt work.</summary>
public sealed class AuthThrottleOptions
{
    /// <summary>Reads the limits from the "Auth" section.</summary>
    public void ReadFrom(IConfiguration auth)
    {
        LoginAttemptsPerMinutePerAccount = auth.GetValue(nameof(LoginAttemptsPerMinutePerAccount), LoginAttemptsPerMinutePerAccount);
        LoginAttemptsPerMinutePerIp = auth.GetValue(nameof(LoginAttemptsPerMinutePerIp), LoginAttemptsPerMinutePerIp);
        TotpAttemptsPerMinutePerOperator = auth.GetValue(nameof(TotpAttemptsPerMinutePerOperator), TotpAttemptsPerMinutePerOperator);
        InvitationAttemptsPerMinutePerUser = auth.GetValue(nameof(InvitationAttemptsPerMinutePerUser), InvitationAttemptsPerMinutePerUser);
        InvitationAttemptsPerMinutePerIp = auth.GetValue(nameof(InvitationAttemptsPerMinutePerIp), InvitationAttemptsPerMinutePerIp);
        SignUpsPerHourPerIp = auth.GetValue(nameof(SignUpsPerHourPerIp), SignUpsPerHourPerIp);
        PasswordHashingConcurrency = auth.GetValue(nameof(PasswordHashingConcurrency), PasswordHashingConcurrency);
        PasswordHashingWaitMilliseconds = auth.GetValue(nameof(PasswordHashingWaitMilliseconds), PasswordHashingWaitMilliseconds);
    }

    /// <summary>Gets or sets how many failed logins one email may have per minute (Auth:LoginAttemptsPerMinutePerAccount).</summary>
    public int LoginAttemptsPerMinutePerAccount { get; set; } = 5;

    /// <summary>Gets or sets how many user login attempts, failed or not, one client IP may make per minute (Auth:LoginAttemptsPerMinutePerIp).</summary>
    public int LoginAttemptsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets how many wrong TOTP codes one operator may send per minute, at login and enrolment together (Auth:TotpAttemptsPerMinutePerOperator).</summary>
    public int TotpAttemptsPerMinutePerOperator { get; set; } = 5;

    /// <summary>Gets or sets how many unknown invitation tokens one user may try per minute (Auth:InvitationAttemptsPerMinutePerUser).</summary>
    public int InvitationAttemptsPerMinutePerUser { get; set; } = 10;

    /// <summary>Gets or sets how many invitation acceptances one client IP may make per minute (Auth:InvitationAttemptsPerMinutePerIp).</summary>
    public int InvitationAttemptsPerMinutePerIp { get; set; } = 20;

    /// <summary>Gets or sets how many sign-ups one client IP may make per hour (Auth:SignUpsPerHourPerIp).</summary>
    public int SignUpsPerHourPerIp { get; set; } = 20;

    /// <summary>Gets or sets how many bcrypt hashes or verifications may run at once in this process (Auth:PasswordHashingConcurrency; the processor count).</summary>
    public int PasswordHashingConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Gets or sets how long a password check waits for a free bcrypt slot before it is refused, in milliseconds (Auth:PasswordHashingWaitMilliseconds).</summary>
    public int PasswordHashingWaitMilliseconds { get; set; } = 100;
}
