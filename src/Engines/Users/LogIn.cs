using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Engines.Sso;
using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Checks an email and password and returns the user, or refuses with 401 without saying which part was wrong; attempts are limited per client IP (Ip; callers without one share the bucket "unknown") and failures per email (429 rate_limited).</summary>
public sealed record LogIn(string Email, string Password, string? Ip) : IRequest<UserSnapshot>;

internal sealed class LogInValidator : AbstractValidator<LogIn>
{
    public LogInValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254);
        RuleFor(c => c.Password).NotEmpty().MaximumLength(128);
    }
}

internal sealed class LogInHandler(
    IDbSessionFactory sessions, IUserDriver users, IPasswordHasher hasher, AuthThrottle throttle, AuthThrottleOptions limits, IClock clock,
    SsoEnforcement sso)
    : IRequestHandler<LogIn, UserSnapshot>
{
    /// <summary>Is a valid hash of a random password, verified for unknown emails so that timing does not reveal which emails exist.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => BCrypt.Net.BCrypt.EnhancedHashPassword(Guid.NewGuid().ToString(), 12));

    public async Task<UserSnapshot> Handle(LogIn command, CancellationToken cancellationToken)
    {
        var email = command.Email.Trim();
                UserCredentials? credentials;
        ThrottleTicket? failure;
        // Counted before the password is checked, in a transaction committed first (ADR 0185): every attempt of the client IP,
        // and this one as a failure of the email until it succeeds; so parallel guesses cannot outrun either limit on any number
        // of instances, a refused attempt costs no bcrypt, and the user's own successes never use up the email's allowance.
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            await throttle.CountAsync(reserve, ThrottleRule.LoginPerIp, AuthThrottle.IpSubject(command.Ip), limits.LoginAttemptsPerMinutePerIp, cancellationToken);
            failure = await throttle.CountAsync(
                reserve, ThrottleRule.LoginPerAccount, AuthThrottle.EmailSubject(email), limits.LoginAttemptsPerMinutePerAccount, cancellationToken);
            credentials = await users.FetchCredentialsByEmailAsync(reserve, email, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }

        bool valid;
        try
        {
            valid = await hasher.VerifyAsync(command.Password, credentials?.PasswordHash ?? DecoyHash.Value, cancellationToken);
        }
        catch (QuotaExceededException)
        {
            // Hashing was saturated (by someone else's flood, as likely as not): the password was never checked, so it is no failure.
            await using var refund = await sessions.OpenAsync(null, null, CancellationToken.None);
            await throttle.RefundAsync(refund, failure, CancellationToken.None);
            await refund.CommitAsync(CancellationToken.None);
            throw;
        }
        if (credentials is null || !valid || credentials.Status != UserStatus.Active)
        {
            throw new UnauthorizedException("The email or password is not correct.");
        }
        // Only a correct password learns that the account must use SSO (ADR 0620).
        await sso.RequirePasswordAllowedAsync(credentials.Id, email, cancellationToken);

        await using var session = await sessions.OpenAsync(null, credentials.Id, cancellationToken);
        await throttle.RefundAsync(session, failure, cancellationToken);
        await users.RecordLoginAsync(session, credentials.Id, clock.UtcNow, cancellationToken);
        var user = await users.FetchUserAsync(session, credentials.Id, cancellationToken)
            ?? throw new UnauthorizedException("The email or password is not correct.");
        await session.CommitAsync(cancellationToken);
        return user;
    }
}
