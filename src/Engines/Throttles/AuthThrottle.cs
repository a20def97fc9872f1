using System.Security.Cryptography;
using System.Text;
using Platform.Drivers.Sessions;
using Platform.Drivers.Throttles;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Engines.Throttles;

/// <summary>Names one kind of counted secret check: its scope in auth_throttle_windows, the quota name of its refusal and its window.</summary>
internal sealed record ThrottleRule(string Scope, string Quota, TimeSpan Window)
{
    /// <summary>Is every user login attempt from one client IP, per minute.</summary>
    public static readonly ThrottleRule LoginPerIp = new("login_ip", "login_attempts_per_ip", TimeSpan.FromMinutes(1));

    /// <summary>Is every failed user login for one email, per minute.</summary>
    public static readonly ThrottleRule LoginPerAccount = new("login_account", "login_attempts_per_account", TimeSpan.FromMinutes(1));

    /// <summary>Is every operator login attempt from one client IP, per minute (ADR 0261).</summary>
    public static readonly ThrottleRule OperatorLoginPerIp = new("operator_login_ip", "operator_logins_per_ip", TimeSpan.FromMinutes(1));

    /// <summary>Is every wrong TOTP code of one operator (at login and at enrolment), per minute.</summary>
    public static readonly ThrottleRule TotpPerOperator = new("totp_operator", "totp_attempts_per_operator", TimeSpan.FromMinutes(1));

    /// <summary>Is every unknown invitation token tried by one user, per minute.</summary>
    public static readonly ThrottleRule InvitationPerUser = new("invitation_user", "invitation_attempts_per_user", TimeSpan.FromMinutes(1));

    /// <summary>Is every invitation acceptance from one client IP, per minute.</summary>
    public static readonly ThrottleRule InvitationPerIp = new("invitation_ip", "invitation_attempts_per_ip", TimeSpan.FromMinutes(1));

    /// <summary>Is every sign-up from one client IP, per hour.</summary>
    public static readonly ThrottleRule SignUpPerIp = new("signup_ip", "signups_per_ip", TimeSpan.FromHours(1));

    /// <summary>Is every verification email a user asks for again, per hour (ADR 0530).</summary>
    public static readonly ThrottleRule VerificationResendPerUser = new("verify_resend_user", "verification_resends_per_user", TimeSpan.FromHours(1));

    /// <summary>Is every password reset request for one email, known or not, per hour.</summary>
    public static readonly ThrottleRule PasswordResetPerEmail = new("reset_email", "password_resets_per_email", TimeSpan.FromHours(1));

    /// <summary>Is every password reset request from one client IP, per hour.</summary>
    public static readonly ThrottleRule PasswordResetPerIp = new("reset_ip", "password_resets_per_ip", TimeSpan.FromHours(1));

    /// <summary>Is every wrong current password sent to the change-password route by one user, per minute.</summary>
    public static readonly ThrottleRule PasswordChangePerUser = new("password_change_user", "password_change_attempts_per_user", TimeSpan.FromMinutes(1));
}

/// <summary>Is one counted attempt, kept to take it back when the attempt turns out to be a success.</summary>
internal sealed record ThrottleTicket(ThrottleRule Rule, string Subject, DateTimeOffset WindowStart);

/// <summary>Counts secret checks per client IP or account in PostgreSQL (one conditional upsert, exact over all instances) and refuses with 429 rate_limited once a window is full.</summary>
/// <remarks>Callers count in a transaction they commit before any bcrypt work, so a flood of refused attempts costs no hashing (ADR 0185).</remarks>
internal sealed class AuthThrottle(IThrottleDriver throttles, IClock clock)
{
    /// <summary>Counts one attempt of the subject; returns its ticket, or null when the rule is off (limit 0) or there is no subject; throws QuotaExceededException (rate_limited, resets at the window's end) when the window is full.</summary>
    public async Task<ThrottleTicket?> CountAsync(IDbSession session, ThrottleRule rule, string? subject, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0 || subject is not { Length: > 0 })
        {
            return null;
        }
        var key = subject.Length > 64 ? subject[..64] : subject;
        var windowStart = WindowStart(clock.UtcNow, rule.Window);
        var windowEnd = windowStart + rule.Window;
        if (await throttles.TryCountAttemptAsync(session, rule.Scope, key, windowStart, windowEnd, limit, cancellationToken) is null)
        {
            throw new QuotaExceededException(rule.Quota, limit, limit, windowEnd, "rate_limited");
        }
        return new ThrottleTicket(rule, key, windowStart);
    }

    /// <summary>Takes back a counted attempt (a success of a check that counts failures only); a null ticket does nothing.</summary>
    public Task RefundAsync(IDbSession session, ThrottleTicket? ticket, CancellationToken cancellationToken) =>
        ticket is null ? Task.CompletedTask : throttles.RefundAttemptAsync(session, ticket.Rule.Scope, ticket.Subject, ticket.WindowStart, cancellationToken);

    /// <summary>Deletes windows that ended more than a minute ago; returns how many.</summary>
    public Task<int> PurgeAsync(IDbSession session, CancellationToken cancellationToken) =>
        throttles.DeleteWindowsEndedBeforeAsync(session, clock.UtcNow.AddMinutes(-1), cancellationToken);

    /// <summary>Gives the subject that stands for a client IP: the address, or "unknown" for requests without one (in-process hosts, a Unix socket), which then share one bucket.</summary>
    public static string IpSubject(string? ip) => ip is { Length: > 0 } ? ip : "unknown";

    /// <summary>Gives the subject that stands for an email (trimmed, lower case): its SHA-256 in hex, so that no address is stored in the table.</summary>
    public static string EmailSubject(string email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));

    private static DateTimeOffset WindowStart(DateTimeOffset now, TimeSpan window)
    {
        var ticks = now.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % window.Ticks), TimeSpan.Zero);
    }
}
