using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Engines.Plans;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Names the founder action types of per-tenant feature overrides (ADR 0550).</summary>
public static class FeatureOverrideActionTypes
{
    public const string Set = "feature.override_set";
    public const string Clear = "feature.override_clear";
}

/// <summary>Grants (enabled) or revokes (not enabled) one feature for one tenant whatever its plan says (billing+; the target is "{tenant_id}/{feature}",
/// the input is the enabled flag); reversing it restores the override it replaced, or its absence.</summary>
internal sealed class SetFeatureOverrideAction(FeatureOverrideChanges changes) : IFounderActionType
{
    public string Name => FeatureOverrideActionTypes.Set;
    public string TargetType => "feature_override";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(QuotaTarget.Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var enabled = context.Input is bool b ? b : throw ValidationFailedException.For("enabled", "enabled is required (true grants the feature, false revokes it).");
        var change = await changes.SetAsync(context.Scope, context.Caller, QuotaTarget.Parse(context.TargetId).Quota, enabled, context.ReasonText, cancellationToken);
        return FeatureTarget.Details(change);
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        await changes.RestoreAsync(context.Scope, context.Caller, QuotaTarget.Parse(original.TargetId).Quota, FeatureTarget.Previous(original), cancellationToken);
}

/// <summary>Removes one feature override of a tenant so its plan decides again (billing+); reversing it puts the removed override back.</summary>
internal sealed class ClearFeatureOverrideAction(FeatureOverrideChanges changes) : IFounderActionType
{
    public string Name => FeatureOverrideActionTypes.Clear;
    public string TargetType => "feature_override";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(QuotaTarget.Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var change = await changes.ClearAsync(context.Scope, context.Caller, QuotaTarget.Parse(context.TargetId).Quota, cancellationToken);
        return FeatureTarget.Details(change);
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        await changes.RestoreAsync(context.Scope, context.Caller, QuotaTarget.Parse(original.TargetId).Quota, FeatureTarget.Previous(original), cancellationToken);
}

/// <summary>Reads and writes the details of feature override actions (the target is "{tenant_id}/{feature}", parsed like a quota target).</summary>
internal static class FeatureTarget
{
    public static object Details(FeatureOverrideChange change) => new
    {
        had_override = change.Previous is not null,
        previous_enabled = change.Previous?.Enabled,
        previous_reason = change.Previous?.Reason,
        enabled = change.Saved?.Enabled,
    };

    public static (bool Enabled, string? Reason)? Previous(FounderActionSnapshot original)
    {
        using var details = JsonDocument.Parse(original.Details);
        var root = details.RootElement;
        if (!root.TryGetProperty("had_override", out var had) || had.ValueKind != JsonValueKind.True)
        {
            return null;
        }
        var reason = root.TryGetProperty("previous_reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        return (root.GetProperty("previous_enabled").GetBoolean(), reason);
    }
}
