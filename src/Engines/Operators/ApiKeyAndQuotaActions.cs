using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Engines.ApiKeys;
using Platform.Engines.Plans;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Freezes an API key (support+); reversing it unfreezes the key. The cached key is dropped on every instance after commit.</summary>
internal sealed class FreezeApiKeyAction(ApiKeyFreezer freezer) : IFounderActionType
{
    public string Name => FounderActionTypes.FreezeApiKey;
    public string TargetType => "api_key";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        freezer.FindTenantAsync(unscopedSession, KeyId(targetId), cancellationToken);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var change = await freezer.SetFrozenInScopeAsync(context.Scope, context.Caller, KeyId(context.TargetId), true, context.ReasonText, cancellationToken);
        context.AfterCommit(change.AfterCommit);
        return new { key_id = change.Key.Id };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        var change = await freezer.SetFrozenInScopeAsync(context.Scope, context.Caller, KeyId(context.TargetId), false, null, cancellationToken);
        context.AfterCommit(change.AfterCommit);
    }

    internal static Guid KeyId(string targetId) => Guid.TryParse(targetId, out var id) ? id : throw new NotFoundException("API key");
}

/// <summary>Unfreezes an API key (support+); reversing it freezes the key again with the reason it had.</summary>
internal sealed class UnfreezeApiKeyAction(ApiKeyFreezer freezer) : IFounderActionType
{
    public string Name => FounderActionTypes.UnfreezeApiKey;
    public string TargetType => "api_key";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        freezer.FindTenantAsync(unscopedSession, FreezeApiKeyAction.KeyId(targetId), cancellationToken);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var change = await freezer.SetFrozenInScopeAsync(context.Scope, context.Caller, FreezeApiKeyAction.KeyId(context.TargetId), false, null, cancellationToken);
        context.AfterCommit(change.AfterCommit);
        return new { key_id = change.Key.Id, previous_reason = change.Before.FrozenReason };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var reason = details.RootElement.TryGetProperty("previous_reason", out var r) && r.ValueKind == JsonValueKind.String
            ? r.GetString()!
            : context.ReasonText;
        var change = await freezer.SetFrozenInScopeAsync(context.Scope, context.Caller, FreezeApiKeyAction.KeyId(context.TargetId), true, reason, cancellationToken);
        context.AfterCommit(change.AfterCommit);
    }
}

/// <summary>Sets one quota override of a tenant (billing+; the target is "{tenant_id}/{quota}", the value is the action's input); reversing it restores the override it replaced, or its absence.</summary>
internal sealed class SetQuotaOverrideAction(QuotaOverrideChanges changes) : IFounderActionType
{
    public string Name => FounderActionTypes.SetQuotaOverride;
    public string TargetType => "quota_override";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(QuotaTarget.Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var value = context.Input is long v ? v : throw ValidationFailedException.For("value", "The value is required.");
        var change = await changes.SetAsync(context.Scope, context.Caller, QuotaTarget.Parse(context.TargetId).Quota, value, context.ReasonText, cancellationToken);
        return QuotaTarget.Details(change);
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        await changes.RestoreAsync(context.Scope, context.Caller, QuotaTarget.Parse(original.TargetId).Quota, QuotaTarget.Previous(original), cancellationToken);
}

/// <summary>Removes one quota override of a tenant so the plan's value applies (billing+); reversing it puts the removed override back.</summary>
internal sealed class ClearQuotaOverrideAction(QuotaOverrideChanges changes) : IFounderActionType
{
    public string Name => FounderActionTypes.ClearQuotaOverride;
    public string TargetType => "quota_override";
    public OperatorRole MinimumRole => OperatorRole.Billing;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(QuotaTarget.Parse(targetId).TenantId);

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var change = await changes.ClearAsync(context.Scope, context.Caller, QuotaTarget.Parse(context.TargetId).Quota, cancellationToken);
        return QuotaTarget.Details(change);
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        await changes.RestoreAsync(context.Scope, context.Caller, QuotaTarget.Parse(original.TargetId).Quota, QuotaTarget.Previous(original), cancellationToken);
}

/// <summary>Reads and writes the target and details of quota override actions.</summary>
internal static class QuotaTarget
{
    public static string Of(Guid tenantId, string quota) => $"{tenantId}/{quota}";

    public static (Guid TenantId, string Quota) Parse(string targetId)
    {
        var slash = targetId.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && Guid.TryParse(targetId.AsSpan(0, slash), out var tenantId)
            ? (tenantId, targetId[(slash + 1)..])
            : throw new NotFoundException("tenant");
    }

    public static object Details(QuotaOverrideChange change) => new
    {
        had_override = change.Previous is not null,
        previous_value = change.Previous?.Value,
        previous_reason = change.Previous?.Reason,
        value = change.Saved?.Value,
    };

    public static (long Value, string? Reason)? Previous(FounderActionSnapshot original)
    {
        using var details = JsonDocument.Parse(original.Details);
        var root = details.RootElement;
        if (!root.TryGetProperty("had_override", out var had) || had.ValueKind != JsonValueKind.True)
        {
            return null;
        }
        var reason = root.TryGetProperty("previous_reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        return (root.GetProperty("previous_value").GetInt64(), reason);
    }
}
