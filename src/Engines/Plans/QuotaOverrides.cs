using FluentValidation;
using MediatR;
using Platform.Drivers.Plans;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Plans;

/// <summary>Sets one quota of a tenant above or below its plan (-1 unlimited); operators and the system only. Plan changes keep it.</summary>
public sealed record SetQuotaOverride(Caller Caller, Guid TenantId, string Quota, long Value, string? Reason)
    : IRequest<Entitlements>, ITenantCommand, ICallerCommand;

/// <summary>Removes one quota override of a tenant, so the plan's value applies again; operators and the system only.</summary>
public sealed record ClearQuotaOverride(Caller Caller, Guid TenantId, string Quota) : IRequest<Entitlements>, ITenantCommand, ICallerCommand;

internal sealed class SetQuotaOverrideValidator : AbstractValidator<SetQuotaOverride>
{
    public SetQuotaOverrideValidator()
    {
        RuleFor(c => c.Quota).Must(Quotas.IsKnown).WithMessage($"The quota must be one of: {string.Join(", ", Quotas.All)}.");
        RuleFor(c => c.Value).GreaterThanOrEqualTo(-1);
        RuleFor(c => c.Value).LessThanOrEqualTo(int.MaxValue).When(c => Quotas.IsKnown(c.Quota) && Quotas.IsInt32(c.Quota));
        RuleFor(c => c.Reason).MaximumLength(500);
    }
}

internal sealed class ClearQuotaOverrideValidator : AbstractValidator<ClearQuotaOverride>
{
    public ClearQuotaOverrideValidator() =>
        RuleFor(c => c.Quota).Must(Quotas.IsKnown).WithMessage($"The quota must be one of: {string.Join(", ", Quotas.All)}.");
}

internal sealed class SetQuotaOverrideHandler(TenantGate gate, ITenantDriver tenants, IQuotaDriver quotas, AuditTrail audit, IClock clock)
    : IRequestHandler<SetQuotaOverride, Entitlements>
{
    public async Task<Entitlements> Handle(SetQuotaOverride command, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(command.Caller, "set quota overrides");
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var now = clock.UtcNow;
        var previous = (await quotas.ListOverridesAsync(scope.Session, command.TenantId, cancellationToken)).FirstOrDefault(o => o.Quota == command.Quota);
        var saved = await quotas.UpsertOverrideAsync(scope.Session, command.TenantId, command.Quota, command.Value, command.Reason,
            EntitlementRules.Actor(command.Caller), now, cancellationToken);
        var (_, entitlements) = await EntitlementRules.ApplyAsync(quotas, scope.Session, command.TenantId,
            EntitlementRules.PlanOf(scope.Tenant.Plan), now, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "quota.override_set", "quota_override", command.Quota,
            previous is null ? null : new { previous.Value, previous.Reason }, new { saved.Value, saved.Reason }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return entitlements;
    }
}

internal sealed class ClearQuotaOverrideHandler(TenantGate gate, ITenantDriver tenants, IQuotaDriver quotas, AuditTrail audit, IClock clock)
    : IRequestHandler<ClearQuotaOverride, Entitlements>
{
    public async Task<Entitlements> Handle(ClearQuotaOverride command, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(command.Caller, "clear quota overrides");
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var removed = await quotas.DeleteOverrideAsync(scope.Session, command.TenantId, command.Quota, cancellationToken)
            ?? throw new NotFoundException("quota override");
        var (_, entitlements) = await EntitlementRules.ApplyAsync(quotas, scope.Session, command.TenantId,
            EntitlementRules.PlanOf(scope.Tenant.Plan), clock.UtcNow, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "quota.override_cleared", "quota_override", command.Quota,
            new { removed.Value, removed.Reason }, null, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return entitlements;
    }
}
