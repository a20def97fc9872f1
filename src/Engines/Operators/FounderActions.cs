using System.Text.Json;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Is one kind of founder action on a tenant: its name, who may apply it, and its effect inside the tenant's transaction; a reversible kind also undoes that effect. Adding an action kind is one class implementing this (found by scanning).</summary>
internal interface IFounderActionType
{
    /// <summary>Gets the action type stored on the row, such as "tenant.suspend".</summary>
    string Name { get; }

    /// <summary>Gets the kind of target, such as "tenant" or "api_key".</summary>
    string TargetType { get; }

    /// <summary>Gets the lowest operator role that may apply the action.</summary>
    OperatorRole MinimumRole { get; }

    /// <summary>Gets whether the action can be reversed by a super_admin.</summary>
    bool Reversible { get; }

    /// <summary>Gets whether the action acts inside one tenant (the default) or on something global, such as a user's fair-use limits
    /// (ADR 0520): a global action runs in an unscoped transaction, its row has no tenant, and FindTenantAsync is not called.</summary>
    bool TenantScoped => true;

    /// <summary>Finds the tenant of a target before the tenant scope is opened (a tenant target is its own tenant).</summary>
    Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken);

    /// <summary>Applies the effect in the tenant's scope and returns what reversal will need (stored as the row's details), or null.</summary>
    Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken);

    /// <summary>Undoes the effect of an earlier action of this type in the tenant's scope.</summary>
    Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken);
}

/// <summary>Holds what an action's effect works with: the open tenant scope, the operator, the target and the reason.</summary>
internal sealed record FounderActionContext(TenantScope? TenantScopeOrNull, IDbSession Session, Caller Caller, string TargetId, string ReasonCode, string? ReasonNote)
{
    /// <summary>Gets the open tenant scope of a tenant-scoped action.</summary>
    public TenantScope Scope => TenantScopeOrNull ?? throw new InvalidOperationException("This founder action is not tenant-scoped.");

    /// <summary>Gets the id the action's row will have (effects that point at their action store it).</summary>
    public Guid ActionId { get; init; } = Guid.CreateVersion7();

    /// <summary>Gets the reason as one line for places that keep a single text (the tenant's suspension reason).</summary>
    public string ReasonText => ReasonNote is { Length: > 0 } note ? $"{ReasonCode}: {note}" : ReasonCode;

    /// <summary>Gets the action's input beyond target and reason (such as a quota override's value), or null.</summary>
    public object? Input { get; init; }

    private readonly List<Func<Task>> afterCommit = [];

    /// <summary>Registers work that must run only once the action's transaction has committed (such as invalidating cached API keys).</summary>
    public void AfterCommit(Func<Task> work) => afterCommit.Add(work);

    /// <summary>Runs the work registered with AfterCommit, in order; the handlers call it right after committing.</summary>
    public async Task CommittedAsync()
    {
        foreach (var work in afterCommit)
        {
            await work();
        }
    }
}

/// <summary>Appends founder action rows; every operator action goes through it, in the transaction of its effect.</summary>
internal sealed class FounderActionLog(IFounderActionDriver actions, IClock clock)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Appends an action and returns it; a reversal of an action that already has one raises 409 action_already_reversed.</summary>
    public async Task<FounderActionSnapshot> AppendAsync(
        IDbSession session, Caller caller, string actionType, string targetType, string targetId, Guid? tenantId,
        string reasonCode, string? reasonNote, bool reversible, Guid? reversesActionId, object? details, CancellationToken cancellationToken, Guid? id = null)
    {
        var action = new FounderActionSnapshot(
            id ?? Guid.CreateVersion7(), actionType, targetType, targetId, tenantId, reasonCode, reasonNote,
            caller.OperatorId ?? throw new ForbiddenException("Only operators may do this."), caller.MfaVerified, reversible,
            reversesActionId, null, details is null ? "{}" : JsonSerializer.Serialize(details, Json), clock.UtcNow);
        if (!await actions.TryAppendAsync(session, action, cancellationToken))
        {
            throw new ConflictException("This action has already been reversed.", "action_already_reversed");
        }
        return action;
    }
}
