using FluentValidation;
using MediatR;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Names what ChangeOperator does to an operator.</summary>
public enum OperatorChange
{
    /// <summary>Sets the role given with the command.</summary>
    Role,

    /// <summary>Disables the operator: no login, and its tokens stop working on their next request.</summary>
    Disable,

    /// <summary>Enables a disabled operator again.</summary>
    Enable,

    /// <summary>Removes the operator's TOTP secret and requires a new enrolment before anything else.</summary>
    ResetTotp,
}

/// <summary>Changes an operator (super_admin only): role, disable, enable or TOTP reset, each as an irreversible founder action; the last active super_admin cannot be disabled or demoted (409 last_super_admin), exactly under concurrency.</summary>
public sealed record ChangeOperator(Caller Caller, Guid OperatorId, OperatorChange Change, string? Role, string? ReasonCode, string? ReasonNote)
    : IRequest<OperatorSnapshot>, ICallerCommand;

internal sealed class ChangeOperatorValidator : AbstractValidator<ChangeOperator>
{
    public ChangeOperatorValidator()
    {
        RuleFor(c => c.Role).Must(r => WireNames.TryParse<OperatorRole>(r, out _)).When(c => c.Change == OperatorChange.Role)
            .WithMessage("Role must be super_admin, support, billing or viewer.");
        RuleFor(c => c.ReasonCode).MaximumLength(100).Matches(OperatorManagement.ReasonCodePattern).When(c => c.ReasonCode is not null);
        RuleFor(c => c.ReasonNote).MaximumLength(2000);
    }
}

internal sealed class ChangeOperatorHandler(IDbSessionFactory sessions, IOperatorDriver operators, FounderActionLog log, IClock clock)
    : IRequestHandler<ChangeOperator, OperatorSnapshot>
{
    public async Task<OperatorSnapshot> Handle(ChangeOperator command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.SuperAdmin);
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var superAdmins = await OperatorManagement.EnterAsync(operators, session, command.Caller, cancellationToken);
        var target = await operators.FetchOperatorAsync(session, command.OperatorId, cancellationToken) ?? throw new NotFoundException("operator");

        OperatorSnapshot? changed;
        string actionType;
        object details;
        switch (command.Change)
        {
            case OperatorChange.Role:
                var role = WireNames.Parse<OperatorRole>(command.Role!);
                if (role != OperatorRole.SuperAdmin)
                {
                    OperatorManagement.KeepOneSuperAdmin(superAdmins, target);
                }
                changed = await operators.SetRoleAsync(session, target.Id, role, now, cancellationToken);
                actionType = "operator.role_change";
                details = new { from = target.Role.ToWire(), to = role.ToWire() };
                break;
            case OperatorChange.Disable:
                OperatorManagement.KeepOneSuperAdmin(superAdmins, target);
                changed = await operators.SetStatusAsync(session, target.Id, OperatorStatus.Disabled, now, cancellationToken);
                actionType = "operator.disable";
                details = new { from = target.Status.ToWire(), to = OperatorStatus.Disabled.ToWire() };
                break;
            case OperatorChange.Enable:
                changed = await operators.SetStatusAsync(session, target.Id, OperatorStatus.Active, now, cancellationToken);
                actionType = "operator.enable";
                details = new { from = target.Status.ToWire(), to = OperatorStatus.Active.ToWire() };
                break;
            case OperatorChange.ResetTotp:
                changed = await operators.ResetTotpAsync(session, target.Id, now, cancellationToken);
                actionType = "operator.totp_reset";
                details = new { totp_enabled_before = target.TotpEnabled };
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(command), command.Change, "Unknown operator change.");
        }

        await log.AppendAsync(session, command.Caller, actionType, "operator", target.Id.ToString(), null,
            command.ReasonCode ?? OperatorManagement.DefaultReasonCode, command.ReasonNote, false, null, details, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return changed ?? throw new NotFoundException("operator");
    }
}
