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

/// <summary>Moves a tenant to another plan (its owner, or the system for billing): plan and quota columns change in one statement, and quota overrides stay on top.</summary>
public sealed record ChangeTenantPlan(Caller Caller, Guid TenantId, string Plan) : IRequest<TenantSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class ChangeTenantPlanValidator : AbstractValidator<ChangeTenantPlan>
{
    public ChangeTenantPlanValidator() =>
        RuleFor(c => c.Plan).Must(p => PlanCatalog.Find(p) is not null)
            .WithMessage($"The plan must be one of: {string.Join(", ", PlanCatalog.All.Select(p => p.Id))}.");
}

internal sealed class ChangeTenantPlanHandler(TenantGate gate, ITenantDriver tenants, IQuotaDriver quotas, AuditTrail audit, IClock clock)
    : IRequestHandler<ChangeTenantPlan, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(ChangeTenantPlan command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not (CallerKind.User or CallerKind.System))
        {
            throw new ForbiddenException("Only the tenant's owner or the system (billing) changes the plan.");
        }
        // The system may move a suspended tenant (a downgrade by billing); an owner may not.
        var access = command.Caller.Kind == CallerKind.System ? Access.Read : Access.Write;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, access, cancellationToken);
        // The row lock orders this change with override changes, so neither writes quota columns from a stale read.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var before = scope.Tenant;
        var plan = PlanCatalog.Get(command.Plan);
        var (after, _) = await EntitlementRules.ApplyAsync(quotas, scope.Session, command.TenantId, plan, clock.UtcNow, cancellationToken, before.Status, before.SuspendedReason);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "tenant.plan_changed", "tenant", command.TenantId,
            new { before.Plan, quotas = Quotas.ToTenantQuotasOf(before) },
            new { after.Plan, quotas = Quotas.ToTenantQuotasOf(after) }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return after;
    }
}
