using FluentValidation;
using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.ApiKeys;

/// <summary>Freezes an API key named by its id alone (operators and the system): it is refused on every instance until unfrozen.</summary>
public sealed record FreezeApiKey(Caller Caller, Guid KeyId, string Reason) : IRequest<ApiKeySnapshot>, ICallerCommand;

/// <summary>Unfreezes an API key named by its id alone (operators and the system).</summary>
public sealed record UnfreezeApiKey(Caller Caller, Guid KeyId) : IRequest<ApiKeySnapshot>, ICallerCommand;

internal sealed class FreezeApiKeyValidator : AbstractValidator<FreezeApiKey>
{
    public FreezeApiKeyValidator() => RuleFor(c => c.Reason).NotEmpty().MaximumLength(500);
}

internal sealed class FreezeApiKeyHandler(ApiKeyFreezer freezer) : IRequestHandler<FreezeApiKey, ApiKeySnapshot>
{
    public Task<ApiKeySnapshot> Handle(FreezeApiKey command, CancellationToken cancellationToken) =>
        freezer.SetFrozenAsync(command.Caller, command.KeyId, true, command.Reason, cancellationToken);
}

internal sealed class UnfreezeApiKeyHandler(ApiKeyFreezer freezer) : IRequestHandler<UnfreezeApiKey, ApiKeySnapshot>
{
    public Task<ApiKeySnapshot> Handle(UnfreezeApiKey command, CancellationToken cancellationToken) =>
        freezer.SetFrozenAsync(command.Caller, command.KeyId, false, null, cancellationToken);
}

/// <summary>Finds a key's tenant through the cross-tenant path, then freezes or unfreezes it inside that tenant's scope; the operators' founder actions use the scoped part in their own transaction.</summary>
internal sealed class ApiKeyFreezer(IDbSessionFactory sessions, TenantGate gate, IApiKeyDriver keys, ApiKeyCache cache, AuditTrail audit, IClock clock)
{
    public async Task<ApiKeySnapshot> SetFrozenAsync(Caller caller, Guid keyId, bool frozen, string? reason, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(caller, "freeze or unfreeze API keys");
        Guid tenantId;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantId = await FindTenantAsync(lookup, keyId, cancellationToken);
        }
        await using var scope = await gate.EnterAsync(tenantId, caller, TenantRole.Owner, Access.Read, cancellationToken);
        var change = await SetFrozenInScopeAsync(scope, caller, keyId, frozen, reason, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        await change.AfterCommit();
        return change.Key;
    }

    /// <summary>Finds the tenant of a key on a session without tenant scope (through the cross-tenant function), or raises 404.</summary>
    public async Task<Guid> FindTenantAsync(IDbSession unscopedSession, Guid keyId, CancellationToken cancellationToken) =>
        await keys.FindTenantIdOfKeyAsync(unscopedSession, keyId, cancellationToken) ?? throw new NotFoundException("API key");

    /// <summary>Freezes or unfreezes the key inside an open tenant scope with its audit row and NOTIFY; the caller commits, then runs AfterCommit.</summary>
    public async Task<FrozenKeyChange> SetFrozenInScopeAsync(TenantScope scope, Caller caller, Guid keyId, bool frozen, string? reason, CancellationToken cancellationToken)
    {
        EntitlementRules.RequireOperatorOrSystem(caller, "freeze or unfreeze API keys");
        var tenantId = scope.Tenant.Id;
        var before = await keys.FetchApiKeyAsync(scope.Session, tenantId, keyId, cancellationToken) ?? throw new NotFoundException("API key");
        // The update only changes a key not yet in the wanted state, so of two concurrent freezes the second finds it frozen.
        var after = frozen == before.FrozenAt is not null
            ? null
            : await keys.SetFrozenAsync(scope.Session, tenantId, keyId, frozen, reason, clock.UtcNow, cancellationToken);
        if (after is null)
        {
            throw new ConflictException(frozen ? "The API key is already frozen." : "The API key is not frozen.", frozen ? "already_frozen" : "not_frozen");
        }
        await audit.RecordAsync(scope.Session, tenantId, caller, frozen ? "api_key.frozen" : "api_key.unfrozen", "api_key", keyId,
            new { before.FrozenAt, before.FrozenReason }, new { after.FrozenAt, after.FrozenReason }, cancellationToken);
        var afterCommit = await ApiKeyChanges.AnnounceAsync(keys, cache, scope.Session, keyId, cancellationToken);
        return new FrozenKeyChange(before, after, afterCommit);
    }
}

/// <summary>Holds a key before and after a freeze change, and the cache invalidation to run once the transaction has committed.</summary>
internal sealed record FrozenKeyChange(ApiKeySnapshot Before, ApiKeySnapshot Key, Func<Task> AfterCommit);
