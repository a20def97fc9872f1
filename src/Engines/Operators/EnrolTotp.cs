using FluentValidation;
using MediatR;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Starts the calling operator's TOTP enrolment: a new secret, kept pending (encrypted) until a code from it is confirmed, is returned once with its otpauth:// URI.</summary>
public sealed record StartTotpEnrolment(Caller Caller) : IRequest<TotpEnrolment>, ICallerCommand;

/// <summary>Confirms the calling operator's pending TOTP secret with a code from it: TOTP becomes enabled and a required enrolment is done; sign in again with a code to get a verified token. Wrong codes count towards TotpAttemptsPerMinutePerOperator (429 rate_limited).</summary>
public sealed record ConfirmTotpEnrolment(Caller Caller, string Code) : IRequest<OperatorSnapshot>, ICallerCommand;

internal sealed class ConfirmTotpEnrolmentValidator : AbstractValidator<ConfirmTotpEnrolment>
{
    public ConfirmTotpEnrolmentValidator() => RuleFor(c => c.Code).NotEmpty().Matches("^[0-9]{6}$").WithMessage("The code must be six digits.");
}

internal sealed class TotpEnrolmentHandler(
    IDbSessionFactory sessions, IOperatorDriver operators, TotpSecrets totp, FounderActionLog log, AuthThrottle throttle, AuthThrottleOptions limits, IClock clock)
    : IRequestHandler<StartTotpEnrolment, TotpEnrolment>, IRequestHandler<ConfirmTotpEnrolment, OperatorSnapshot>
{
    public async Task<TotpEnrolment> Handle(StartTotpEnrolment command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.Viewer);
        var operatorId = command.Caller.OperatorId!.Value;
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var self = await operators.FetchOperatorAsync(session, operatorId, cancellationToken) ?? throw new UnauthorizedException("The operator no longer exists.");
        if (self.TotpEnabled)
        {
            throw new ConflictException("TOTP is already enabled; a super_admin can reset it.", "totp_already_enabled");
        }
        var secret = TotpSecrets.NewSecret();
        await operators.SetPendingTotpAsync(session, operatorId, totp.Protect(secret), clock.UtcNow, cancellationToken);
        await log.AppendAsync(session, command.Caller, "operator.totp_enrolment_started", "operator", operatorId.ToString(), null,
            "self_service", null, false, null, null, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new TotpEnrolment(secret, TotpSecrets.OtpAuthUri(self.Email, secret));
    }

    public async Task<OperatorSnapshot> Handle(ConfirmTotpEnrolment command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.Viewer);
        var operatorId = command.Caller.OperatorId!.Value;
        // The code is counted as wrong first, committed before it is checked (so parallel guesses cannot outrun the limit),
        // and taken back when it matches; login codes share the same allowance.
        ThrottleTicket? codeFailure;
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            codeFailure = await throttle.CountAsync(
                reserve, ThrottleRule.TotpPerOperator, operatorId.ToString(), limits.TotpAttemptsPerMinutePerOperator, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var pending = await operators.FetchPendingTotpAsync(session, operatorId, cancellationToken)
            ?? throw new ConflictException("There is no pending TOTP enrolment; start one first.", "no_pending_enrolment");
        var step = totp.MatchStep(pending, command.Code)
            ?? throw ValidationFailedException.For("code", "The code does not match the new secret.");
        var enrolled = await operators.ConfirmTotpAsync(session, operatorId, pending, step, clock.UtcNow, cancellationToken)
            ?? throw new ConflictException("The pending enrolment changed meanwhile; start again.", "no_pending_enrolment");
        await throttle.RefundAsync(session, codeFailure, cancellationToken);
        await log.AppendAsync(session, command.Caller, "operator.totp_enrolled", "operator", operatorId.ToString(), null,
            "self_service", null, false, null, null, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return enrolled;
    }
}
