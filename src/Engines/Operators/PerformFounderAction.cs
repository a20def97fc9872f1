using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Tenants;

namespace Platform.Engines.Operators;

/// <summary>Applies a founder action of a named type (such as "tenant.suspend") to a target with a reason: the effect, its tenant audit row and the immutable action row commit together.</summary>
public sealed record PerformFounderAction(Caller Caller, string ActionType, string TargetId, string ReasonCode, string? ReasonNote, object? Input = null)
    : IRequest<FounderActionSnapshot>, ICallerCommand;

internal sealed class PerformFounderActionValidator : AbstractValidator<PerformFounderAction>
{
    public PerformFounderActionValidator()
    {
        RuleFor(c => c.ReasonCode).NotEmpty().MaximumLength(100).Matches("^[a-z0-9_.-]+$")
            .WithMessage("The reason code must be lower-case letters, digits, '_', '.' or '-'.");
        RuleFor(c => c.ReasonNote).MaximumLength(2000);
        RuleFor(c => c.TargetId).NotEmpty().MaximumLength(100);
    }
}

internal sealed class PerformFounderActionHandler(
    IDbSessionFactory sessions, TenantGate gate, FounderActionLog log, IEnumerable<IFounderActionType> types)
    : IRequestHandler<PerformFounderAction, FounderActionSnapshot>
{
    public async Task<FounderActionSnapshot> Handle(PerformFounderAction command, CancellationToken cancellationToken)
    {
        var type = types.SingleOrDefault(t => t.Name == command.ActionType)
            ?? throw ValidationFailedException.For("action_type", $"Unknown founder action type '{command.ActionType}'.");
        OperatorGate.Require(command.Caller, type.MinimumRole);
        if (!type.TenantScoped)
        {
            return await PerformGlobalAsync(type, command, cancellationToken);
        }

        Guid tenantId;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantId = await type.FindTenantAsync(lookup, command.TargetId, cancellationToken);
        }
        await using var scope = await gate.EnterAsync(tenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var context = new FounderActionContext(scope, scope.Session, command.Caller, command.TargetId, command.ReasonCode, command.ReasonNote) { Input = command.Input };
        var details = await type.ApplyAsync(context, cancellationToken);
        var action = await log.AppendAsync(scope.Session, command.Caller, type.Name, type.TargetType, command.TargetId, tenantId,
            command.ReasonCode, command.ReasonNote, type.Reversible, null, details, cancellationToken, context.ActionId);
        await scope.CommitAsync(cancellationToken);
        await context.CommittedAsync();
        return action;
    }

    /// <summary>Applies an action on something global (a user's fair-use limits): effect and action row commit together, with no tenant.</summary>
    private async Task<FounderActionSnapshot> PerformGlobalAsync(IFounderActionType type, PerformFounderAction command, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var context = new FounderActionContext(null, session, command.Caller, command.TargetId, command.ReasonCode, command.ReasonNote) { Input = command.Input };
        var details = await type.ApplyAsync(context, cancellationToken);
        var action = await log.AppendAsync(session, command.Caller, type.Name, type.TargetType, command.TargetId, null,
            command.ReasonCode, command.ReasonNote, type.Reversible, null, details, cancellationToken, context.ActionId);
        await session.CommitAsync(cancellationToken);
        await context.CommittedAsync();
        return action;
    }
}

/// <summary>Names the founder action types the API applies with PerformFounderAction.</summary>
public static class FounderActionTypes
{
    public const string SuspendTenant = "tenant.suspend";
    public const string UnsuspendTenant = "tenant.unsuspend";
    public const string FreezeApiKey = "api_key.freeze";
    public const string UnfreezeApiKey = "api_key.unfreeze";
    public const string SetQuotaOverride = "quota.override_set";
    public const string ClearQuotaOverride = "quota.override_clear";
    public const string MarkInvoicePaid = "invoice.mark_paid";
    public const string SetUserTenantCap = "user.tenant_cap_set";
    public const string GrantTrial = "user.trial_grant";
    public const string RegisterWorker = "worker.register";
    public const string PublishWorkerVersion = "worker.version_publish";
    public const string SetWorkerStatus = "worker.status_set";
    public const string GrantWorkerAccess = "worker.access_grant";
    public const string RevokeWorkerAccess = "worker.access_revoke";
    public const string CreateMeter = "meter.create";
    public const string SetMeterPrice = "meter.price_set";
    public const string AdjustCredits = "credits.adjust";
    public const string RefundCreditPurchase = "credits.refund";
}
