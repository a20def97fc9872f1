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
public sealed record ChangeTenantPlan(Caller Caller, Guid TenantId, string Plan) : IRequest<PlanChange>, ITenantWrite, ICallerCommand;

internal sealed class ChangeTenantPlanValidator : AbstractValidator<ChangeTenantPlan>
{
    public ChangeTenantPlanValidator() =>
        RuleFor(c => c.Plan).Must(p => PlanCatalog.Find(p) is not null)
            .WithMessage($"The plan must be one of: {string.Join(", ", PlanCatalog.All.Select(p => p.Id))}.");
}

internal sealed class ChangeTenantPlanHandler(
    TenantGate gate, ITenantDriver tenants, IQuotaDriver quotas, IFeatureOverrideDriver features, AuditTrail audit, TenantAccessChanges accessChanges, IClock clock)
    : IRequestHandler<ChangeTenantPlan, PlanChange>
{
    public async Task<PlanChange> Handle(ChangeTenantPlan command, CancellationToken cancellationToken)
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
        var lost = await FeatureLoss.RecordAsync(features, audit, scope, command.Caller, before, after, cancellationToken);
        await accessChanges.AnnounceAsync(scope, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new PlanChange(after, lost);
    }
}

/// <summary>Records in the audit log the features a tenant loses when its plan or status changes (action tenant.features_lost), in the changing transaction.</summary>
internal static class FeatureLoss
{
    /// <summary>Compares the features before and after (same overrides) and records the lost ones, if any; returns them.</summary>
    public static async Task<IReadOnlyList<string>> RecordAsync(
        IFeatureOverrideDriver features, AuditTrail audit, TenantScope scope, Caller caller, TenantSnapshot before, TenantSnapshot after, CancellationToken cancellationToken)
    {
        var overrides = await features.ListFeatureOverridesAsync(scope.Session, before.Id, cancellationToken);
        var lost = Features.Lost(
            Features.EffectiveOf(EntitlementRules.PlanOf(before.Plan), before.Status, before.SuspendedReason, overrides),
            Features.EffectiveOf(EntitlementRules.PlanOf(after.Plan), after.Status, after.SuspendedReason, overrides));
        if (lost.Count > 0)
        {
            await audit.RecordAsync(scope.Session, before.Id, caller, "tenant.features_lost", "tenant", before.Id,
                new { before.Plan, before.Status }, new { after.Plan, after.Status, features_lost = lost }, cancellationToken);
        }
        return lost;
    }

    /// <summary>Compares the features before and after (same overrides) without recording anything; returns the lost ones in name order.</summary>
    public static async Task<IReadOnlyList<string>> LostAsync(
        IFeatureOverrideDriver features, TenantScope scope, TenantSnapshot before, TenantSnapshot after, CancellationToken cancellationToken)
    {
        var overrides = await features.ListFeatureOverridesAsync(scope.Session, before.Id, cancellationToken);
        return Features.Lost(
            Features.EffectiveOf(EntitlementRules.PlanOf(before.Plan), before.Status, before.SuspendedReason, overrides),
            Features.EffectiveOf(EntitlementRules.PlanOf(after.Plan), after.Status, after.SuspendedReason, overrides));
    }
}
