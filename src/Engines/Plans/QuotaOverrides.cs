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
    : IRequest<Entitlements>, ITenantWrite, ICallerCommand;

/// <summary>Removes one quota override of a tenant, so the plan's value applies again; operators and the system only.</summary>
public sealed record ClearQuotaOverride(Caller Caller, Guid TenantId, string Quota) : IRequest<Entitlements>, ITenantWrite, ICallerCommand;

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

internal sealed class SetQuotaOverrideHandler(TenantGate gate, QuotaOverrideChanges changes)
    : IRequestHandler<SetQuotaOverride, Entitlements>
{
    public async Task<Entitlements> Handle(SetQuotaOverride command, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(command.Caller, "set quota overrides");
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var change = await changes.SetAsync(scope, command.Caller, command.Quota, command.Value, command.Reason, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return change.Entitlements;
    }
}

internal sealed class ClearQuotaOverrideHandler(TenantGate gate, QuotaOverrideChanges changes)
    : IRequestHandler<ClearQuotaOverride, Entitlements>
{
    public async Task<Entitlements> Handle(ClearQuotaOverride command, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(command.Caller, "clear quota overrides");
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var change = await changes.ClearAsync(scope, command.Caller, command.Quota, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return change.Entitlements;
    }
}

/// <summary>Sets, clears and restores one quota override inside an open tenant scope (tenant row locked, quota columns recomputed, audit row); the commands and the operators' founder actions share it.</summary>
internal sealed class QuotaOverrideChanges(ITenantDriver tenants, IQuotaDriver quotas, AuditTrail audit, IClock clock)
{
    public async Task<QuotaOverrideChange> SetAsync(TenantScope scope, Caller caller, string quota, long value, string? reason, CancellationToken cancellationToken)
    {
        Validate(quota, value);
        return await WriteAsync(scope, caller, quota, (value, reason), requireExisting: false, cancellationToken);
    }

    public async Task<QuotaOverrideChange> ClearAsync(TenantScope scope, Caller caller, string quota, CancellationToken cancellationToken)
    {
        Validate(quota, 0);
        return await WriteAsync(scope, caller, quota, null, requireExisting: true, cancellationToken);
    }

    /// <summary>Puts back an earlier state of the override: the value and reason it had, or no override at all (a missing one is fine).</summary>
    public Task<QuotaOverrideChange> RestoreAsync(TenantScope scope, Caller caller, string quota, (long Value, string? Reason)? previous, CancellationToken cancellationToken) =>
        WriteAsync(scope, caller, quota, previous, requireExisting: false, cancellationToken);

    private static void Validate(string quota, long value)
    {
        if (!Quotas.IsKnown(quota))
        {
            throw ValidationFailedException.For("quota", $"The quota must be one of: {string.Join(", ", Quotas.All)}.");
        }
        if (value < -1 || (Quotas.IsInt32(quota) && value > int.MaxValue))
        {
            throw ValidationFailedException.For("value", $"The value must be -1 (unlimited) or between 0 and {(Quotas.IsInt32(quota) ? int.MaxValue : long.MaxValue)}.");
        }
    }

    private async Task<QuotaOverrideChange> WriteAsync(
        TenantScope scope, Caller caller, string quota, (long Value, string? Reason)? target, bool requireExisting, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(caller, "change quota overrides");
        var tenantId = scope.Tenant.Id;
        await tenants.LockTenantAsync(scope.Session, tenantId, cancellationToken);
        var now = clock.UtcNow;
        var previous = (await quotas.ListOverridesAsync(scope.Session, tenantId, cancellationToken)).FirstOrDefault(o => o.Quota == quota);
        QuotaOverride? saved = null;
        if (target is { } t)
        {
            saved = await quotas.UpsertOverrideAsync(scope.Session, tenantId, quota, t.Value, t.Reason, EntitlementRules.Actor(caller), now, cancellationToken);
        }
        else if (previous is not null)
        {
            await quotas.DeleteOverrideAsync(scope.Session, tenantId, quota, cancellationToken);
        }
        else if (requireExisting)
        {
            throw new NotFoundException("quota override");
        }
        var (_, entitlements) = await EntitlementRules.ApplyAsync(quotas, scope.Session, tenantId, EntitlementRules.PlanOf(scope.Tenant.Plan), now, cancellationToken, scope.Tenant.Status, scope.Tenant.SuspendedReason);
        if (previous is not null || saved is not null)
        {
            await audit.RecordAsync(scope.Session, tenantId, caller, saved is null ? "quota.override_cleared" : "quota.override_set", "quota_override", quota,
                previous is null ? null : new { previous.Value, previous.Reason }, saved is null ? null : new { saved.Value, saved.Reason }, cancellationToken);
        }
        return new QuotaOverrideChange(previous, saved, entitlements);
    }
}

/// <summary>Holds one quota override before and after a change (null when there was or is none) and the tenant's entitlements after it.</summary>
internal sealed record QuotaOverrideChange(QuotaOverride? Previous, QuotaOverride? Saved, Entitlements Entitlements);
