using FluentValidation;
using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Throttles;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Changes the calling operator's own password after checking the current one; wrong ones count towards Accounts:PasswordChangeFailuresPerMinute (429 rate_limited). Recorded as a founder action.</summary>
public sealed record ChangeOperatorPassword(Caller Caller, string CurrentPassword, string NewPassword) : IRequest<Unit>, ICallerCommand;

internal sealed class ChangeOperatorPasswordValidator : AbstractValidator<ChangeOperatorPassword>
{
    public ChangeOperatorPasswordValidator()
    {
        RuleFor(c => c.CurrentPassword).NotEmpty().MaximumLength(128);
        RuleFor(c => c.NewPassword).NotEmpty().MinimumLength(12).MaximumLength(128);
    }
}

internal sealed class ChangeOperatorPasswordHandler(
    IDbSessionFactory sessions, IOperatorDriver operators, IPasswordHasher hasher, AuthThrottle throttle, AccountOptions options, FounderActionLog log, IClock clock)
    : IRequestHandler<ChangeOperatorPassword, Unit>
{
    public async Task<Unit> Handle(ChangeOperatorPassword command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.Viewer);
        var operatorId = command.Caller.OperatorId!.Value;
        ThrottleTicket? failure;
        OperatorCredentials? credentials;
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            failure = await throttle.CountAsync(
                reserve, ThrottleRule.PasswordChangePerUser, "op" + operatorId.ToString("N"), options.PasswordChangeFailuresPerMinute, cancellationToken);
            var self = await operators.FetchOperatorAsync(reserve, operatorId, cancellationToken)
                ?? throw new UnauthorizedException("The operator no longer exists.");
            credentials = await operators.FetchCredentialsByEmailAsync(reserve, self.Email, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }
        if (credentials is null || !await hasher.VerifyAsync(command.CurrentPassword, credentials.PasswordHash, cancellationToken))
        {
            throw ValidationFailedException.For("current_password", "The current password is not correct.");
        }
        var hash = await hasher.HashAsync(command.NewPassword, cancellationToken);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        await throttle.RefundAsync(session, failure, cancellationToken);
        if (!await operators.SetPasswordHashAsync(session, operatorId, hash, clock.UtcNow, cancellationToken))
        {
            throw new UnauthorizedException("The operator no longer exists or is disabled.");
        }
        await log.AppendAsync(session, command.Caller, "operator.password_changed", "operator", operatorId.ToString(), null,
            "self_service", null, false, null, null, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}
