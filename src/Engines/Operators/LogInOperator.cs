using FluentValidation;
using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Throttles;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Checks an operator's email, password and TOTP code (mandatory for super_admin and whoever enrolled); after MaxFailures failed attempts in a row the operator is locked for LockMinutes, each client IP gets OperatorLoginsPerMinutePerIp attempts a minute and each operator TotpAttemptsPerMinutePerOperator wrong codes a minute, across all instances.</summary>
public sealed record LogInOperator(string Email, string Password, string? TotpCode, string? Ip) : IRequest<OperatorLogin>
{
    public const int MaxFailures = 5;
    public const int LockMinutes = 15;
}

internal sealed class LogInOperatorValidator : AbstractValidator<LogInOperator>
{
    public LogInOperatorValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254);
        RuleFor(c => c.Password).NotEmpty().MaximumLength(128);
        RuleFor(c => c.TotpCode).MaximumLength(16);
    }
}

internal sealed class LogInOperatorHandler(
    IDbSessionFactory sessions, IOperatorDriver operators, IPasswordHasher hasher, TotpSecrets totp, AuthThrottle throttle, AuthThrottleOptions limits, IClock clock)
    : IRequestHandler<LogInOperator, OperatorLogin>
{
    /// <summary>Is a valid hash of a random password, verified for unknown emails so that timing does not reveal which operators exist.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => BCrypt.Net.BCrypt.EnhancedHashPassword(Guid.NewGuid().ToString(), 12));

    public async Task<OperatorLogin> Handle(LogInOperator command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        OperatorCredentials? credentials;
        LoginAttempt? attempt = null;
        // The attempt is counted (per client IP, and as failed for the operator) before the password is checked, in its
        // own committed transaction, so parallel guesses cannot outrun either limit on any number of instances; a success
        // clears the operator's count.
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            await throttle.CountAsync(reserve, ThrottleRule.OperatorLoginPerIp, AuthThrottle.IpSubject(command.Ip), limits.OperatorLoginsPerMinutePerIp, cancellationToken);
            credentials = await operators.FetchCredentialsByEmailAsync(reserve, command.Email.Trim(), cancellationToken);
            if (credentials is not null)
            {
                attempt = await operators.ReserveLoginAttemptAsync(
                    reserve, credentials.Operator.Id, LogInOperator.MaxFailures, now, now.AddMinutes(LogInOperator.LockMinutes), cancellationToken);
            }
            await reserve.CommitAsync(cancellationToken);
        }

        if (attempt is { Admitted: false })
        {
            throw new QuotaExceededException("operator_login_failures", LogInOperator.MaxFailures, attempt.FailedAttempts, attempt.LockedUntil, "rate_limited");
        }

        var passwordValid = await hasher.VerifyAsync(command.Password, credentials?.PasswordHash ?? DecoyHash.Value, cancellationToken);
        if (credentials is null || !passwordValid || credentials.Operator.Status != OperatorStatus.Active)
        {
            throw new UnauthorizedException("The email, password or code is not correct.");
        }

        // An enrolled operator always needs a code. A super_admin without TOTP (after a reset, or promoted) signs in with the
        // password alone but gets a token that opens only the TOTP enrolment routes (AuthorizeOperatorRequest).
        var needsTotp = credentials.Operator.TotpEnabled
            || (credentials.Operator.Role == OperatorRole.SuperAdmin && !credentials.Operator.TotpEnrolmentRequired);
        long? step = null;
        ThrottleTicket? codeFailure = null;
        if (needsTotp)
        {
            if (string.IsNullOrEmpty(command.TotpCode))
            {
                throw new UnauthorizedException("A TOTP code is required for this operator.");
            }
            // The code is counted as a wrong one first (shared with the enrolment's confirmation), and taken back on success.
            codeFailure = await CountCodeAsync(credentials.Operator.Id, cancellationToken);
            step = credentials.TotpSecretProtected is null ? null : totp.MatchStep(credentials.TotpSecretProtected, command.TotpCode);
            if (step is null)
            {
                throw new UnauthorizedException("The email, password or code is not correct.");
            }
        }

        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        // A code opens one login only: a replay of the same (or an older) time step is refused.
        if (step is { } used && !await operators.TryUseTotpStepAsync(session, credentials.Operator.Id, used, cancellationToken))
        {
            throw new UnauthorizedException("This TOTP code has already been used; wait for the next one.");
        }
        await throttle.RefundAsync(session, codeFailure, cancellationToken);
        var signedIn = await operators.RecordSuccessfulLoginAsync(session, credentials.Operator.Id, now, command.Ip, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new OperatorLogin(signedIn, needsTotp);
    }

    /// <summary>Counts a TOTP code of the operator as wrong, in its own committed transaction, before it is checked.</summary>
    private async Task<ThrottleTicket?> CountCodeAsync(Guid operatorId, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var ticket = await throttle.CountAsync(
            session, ThrottleRule.TotpPerOperator, operatorId.ToString(), limits.TotpAttemptsPerMinutePerOperator, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return ticket;
    }
}
