using FluentValidation;
using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Tenants;

namespace Platform.Engines.Operators;

/// <summary>Reverses a founder action (super_admin): a new "reversal" action pointing at it and the undoing of its effect commit together; a second reversal gets 409 action_already_reversed, an irreversible action 409 action_irreversible.</summary>
public sealed record ReverseFounderAction(Caller Caller, Guid ActionId, string ReasonCode, string? ReasonNote)
    : IRequest<FounderActionSnapshot>, ICallerCommand
{
    public const string ReversalType = "reversal";
}

internal sealed class ReverseFounderActionValidator : AbstractValidator<ReverseFounderAction>
{
    public ReverseFounderActionValidator()
    {
        RuleFor(c => c.ReasonCode).NotEmpty().MaximumLength(100).Matches("^[a-z0-9_.-]+$")
            .WithMessage("The reason code must be lower-case letters, digits, '_', '.' or '-'.");
        RuleFor(c => c.ReasonNote).MaximumLength(2000);
    }
}

internal sealed class ReverseFounderActionHandler(
    IDbSessionFactory sessions, TenantGate gate, IFounderActionDriver actions, FounderActionLog log, IEnumerable<IFounderActionType> types)
    : IRequestHandler<ReverseFounderAction, FounderActionSnapshot>
{
    public async Task<FounderActionSnapshot> Handle(ReverseFounderAction command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.SuperAdmin);
        FounderActionSnapshot original;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            original = await actions.FetchAsync(lookup, command.ActionId, cancellationToken) ?? throw new NotFoundException("founder action");
        }
        var type = types.SingleOrDefault(t => t.Name == original.ActionType);
        if (!original.Reversible || type is null || (type.TenantScoped && original.TargetTenantId is null))
        {
            throw new ConflictException($"A '{original.ActionType}' action cannot be reversed.", "action_irreversible");
        }
        if (original.ReversedByActionId is not null)
        {
            throw new ConflictException("This action has already been reversed.", "action_already_reversed");
        }
        if (!type.TenantScoped)
        {
            return await ReverseGlobalAsync(type, original, command, cancellationToken);
        }
        var tenantId = original.TargetTenantId!.Value;

        await using var scope = await gate.EnterAsync(tenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        // The reversal row comes first: its unique reverses_action_id makes a concurrent second reversal wait and then fail.
        var reversal = await log.AppendAsync(scope.Session, command.Caller, ReverseFounderAction.ReversalType, "founder_action",
            original.Id.ToString(), tenantId, command.ReasonCode, command.ReasonNote, false, original.Id,
            new { reversed_action_type = original.ActionType }, cancellationToken);
        var context = new FounderActionContext(scope, scope.Session, command.Caller, original.TargetId, command.ReasonCode, command.ReasonNote);
        await type.ReverseAsync(context, original, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        await context.CommittedAsync();
        return reversal;
    }

    /// <summary>Reverses an action on something global (a user's fair-use limits) in an unscoped transaction, the reversal row first as above.</summary>
    private async Task<FounderActionSnapshot> ReverseGlobalAsync(IFounderActionType type, FounderActionSnapshot original, ReverseFounderAction command, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var reversal = await log.AppendAsync(session, command.Caller, ReverseFounderAction.ReversalType, "founder_action",
            original.Id.ToString(), null, command.ReasonCode, command.ReasonNote, false, original.Id,
            new { reversed_action_type = original.ActionType }, cancellationToken);
        var context = new FounderActionContext(null, session, command.Caller, original.TargetId, command.ReasonCode, command.ReasonNote);
        await type.ReverseAsync(context, original, cancellationToken);
        await session.CommitAsync(cancellationToken);
        await context.CommittedAsync();
        return reversal;
    }
}
