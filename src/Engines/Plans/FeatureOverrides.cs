using Platform.Drivers.Plans;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Engines.Plans;

/// <summary>Grants or revokes one feature for one tenant whatever its plan says, clears such an override, and restores an earlier state, inside an open
/// tenant scope (tenant row locked, audit row, change announced to every instance); operators' founder actions use it.</summary>
internal sealed class FeatureOverrideChanges(ITenantDriver tenants, IFeatureOverrideDriver features, AuditTrail audit, TenantAccessChanges access, IClock clock)
{
    public Task<FeatureOverrideChange> SetAsync(TenantScope scope, Caller caller, string feature, bool enabled, string? reason, CancellationToken cancellationToken)
    {
        Validate(feature);
        return WriteAsync(scope, caller, feature, (enabled, reason), requireExisting: false, cancellationToken);
    }

    public Task<FeatureOverrideChange> ClearAsync(TenantScope scope, Caller caller, string feature, CancellationToken cancellationToken)
    {
        Validate(feature);
        return WriteAsync(scope, caller, feature, null, requireExisting: true, cancellationToken);
    }

    /// <summary>Puts back an earlier state of the override: what it was, or no override at all (a missing one is fine).</summary>
    public Task<FeatureOverrideChange> RestoreAsync(TenantScope scope, Caller caller, string feature, (bool Enabled, string? Reason)? previous, CancellationToken cancellationToken) =>
        WriteAsync(scope, caller, feature, previous, requireExisting: false, cancellationToken);

    private static void Validate(string feature)
    {
        if (!Features.IsKnown(feature))
        {
            throw ValidationFailedException.For("feature", $"The feature must be one of: {string.Join(", ", Features.All)}.");
        }
    }

    private async Task<FeatureOverrideChange> WriteAsync(
        TenantScope scope, Caller caller, string feature, (bool Enabled, string? Reason)? target, bool requireExisting, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(caller, "change feature overrides");
        var tenantId = scope.Tenant.Id;
        await tenants.LockTenantAsync(scope.Session, tenantId, cancellationToken);
        var previous = (await features.ListFeatureOverridesAsync(scope.Session, tenantId, cancellationToken)).FirstOrDefault(o => o.Feature == feature);
        FeatureOverride? saved = null;
        if (target is { } t)
        {
            saved = await features.UpsertFeatureOverrideAsync(scope.Session, tenantId, feature, t.Enabled, t.Reason, EntitlementRules.Actor(caller), clock.UtcNow, cancellationToken);
        }
        else if (previous is not null)
        {
            await features.DeleteFeatureOverrideAsync(scope.Session, tenantId, feature, cancellationToken);
        }
        else if (requireExisting)
        {
            throw new NotFoundException("feature override");
        }
        if (previous is not null || saved is not null)
        {
            await audit.RecordAsync(scope.Session, tenantId, caller, saved is null ? "feature.override_cleared" : "feature.override_set", "feature_override", feature,
                previous is null ? null : new { previous.Enabled, previous.Reason }, saved is null ? null : new { saved.Enabled, saved.Reason }, cancellationToken);
            await access.AnnounceAsync(scope, cancellationToken);
        }
        return new FeatureOverrideChange(previous, saved);
    }
}

/// <summary>Holds one feature override before and after a change (null when there was or is none).</summary>
internal sealed record FeatureOverrideChange(FeatureOverride? Previous, FeatureOverride? Saved);
