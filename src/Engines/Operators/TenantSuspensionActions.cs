using System.Text.Json;
using Platform.Drivers.Sessions;
using Platform.Engines.Tenants;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Suspends a tenant (support+); reversing it unsuspends the tenant.</summary>
internal sealed class SuspendTenantAction(TenantSuspension suspension) : IFounderActionType
{
    public const string ActionName = FounderActionTypes.SuspendTenant;

    public string Name => ActionName;
    public string TargetType => "tenant";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Guid.TryParse(targetId, out var id) ? id : throw new Models.Errors.NotFoundException("tenant"));

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var before = context.Scope.Tenant.Status;
        await suspension.SuspendAsync(context.Scope, context.Caller, context.ReasonText, cancellationToken);
        return new { previous_status = before };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        await suspension.UnsuspendAsync(context.Scope, context.Caller, cancellationToken);
}

/// <summary>Lifts a tenant's suspension (support+); reversing it suspends the tenant again with the reason it had.</summary>
internal sealed class UnsuspendTenantAction(TenantSuspension suspension) : IFounderActionType
{
    public const string ActionName = FounderActionTypes.UnsuspendTenant;

    public string Name => ActionName;
    public string TargetType => "tenant";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Guid.TryParse(targetId, out var id) ? id : throw new Models.Errors.NotFoundException("tenant"));

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var previousReason = context.Scope.Tenant.SuspendedReason;
        await suspension.UnsuspendAsync(context.Scope, context.Caller, cancellationToken);
        return new { previous_reason = previousReason };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var reason = details.RootElement.TryGetProperty("previous_reason", out var r) && r.ValueKind == JsonValueKind.String
            ? r.GetString()!
            : context.ReasonText;
        await suspension.SuspendAsync(context.Scope, context.Caller, reason, cancellationToken);
    }
}
