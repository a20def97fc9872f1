using FluentValidation;
using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.ApiKeys;

/// <summary>Revokes an API key (admin, also while the tenant is suspended); every API instance refuses it from its next request.</summary>
public sealed record RevokeApiKey(Caller Caller, Guid TenantId, Guid KeyId, string? Reason)
    : IRequest<ApiKeySnapshot>, ITenantWrite, ICallerCommand;

internal sealed class RevokeApiKeyValidator : AbstractValidator<RevokeApiKey>
{
    public RevokeApiKeyValidator() => RuleFor(c => c.Reason).MaximumLength(500);
}

internal sealed class RevokeApiKeyHandler(TenantGate gate, IApiKeyDriver keys, ApiKeyCache cache, AuditTrail audit, WebhookEvents events, IClock clock)
    : IRequestHandler<RevokeApiKey, ApiKeySnapshot>
{
    public async Task<ApiKeySnapshot> Handle(RevokeApiKey command, CancellationToken cancellationToken)
    {
        // Read access: revoking a leaked key must work while the tenant is suspended.
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var existing = await keys.FetchApiKeyAsync(scope.Session, command.TenantId, command.KeyId, cancellationToken)
            ?? throw new NotFoundException("API key");
        var revoked = await keys.RevokeApiKeyAsync(scope.Session, command.TenantId, command.KeyId, command.Reason, clock.UtcNow, cancellationToken)
            ?? throw new ConflictException("The API key is already revoked.", "already_revoked");
        await keys.ReleaseKeySlotAsync(scope.Session, command.TenantId, cancellationToken);
        await events.EmitAsync(scope.Session, command.TenantId, WebhookEventTypes.ApiKeyRevoked, ApiKeyEventData.From(revoked), cancellationToken);
        await ApiKeyChanges.AnnounceAndCommitAsync(keys, cache, scope, command.KeyId, cancellationToken, async () =>
            await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "api_key.revoked", "api_key", command.KeyId,
                new { existing.Name, existing.Prefix }, new { revoked.RevokedAt, reason = revoked.RevokedReason }, cancellationToken));
        return revoked;
    }
}

/// <summary>Ends a key-changing transaction: NOTIFY inside it, commit, drop the local cache entry, then wait (at most two seconds) until every instance that was listening has acknowledged that it dropped the key too.</summary>
internal static class ApiKeyChanges
{
    public static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(2);

    public static async Task AnnounceAndCommitAsync(
        IApiKeyDriver keys, ApiKeyCache cache, TenantScope scope, Guid keyId, CancellationToken cancellationToken, Func<Task> audit)
    {
        await audit();
        var afterCommit = await AnnounceAsync(keys, cache, scope.Session, keyId, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        await afterCommit();
    }

    /// <summary>Sends the NOTIFY inside the open transaction and returns what must run once it has committed (drop the local entry, wait for the acknowledgements); the caller commits in between.</summary>
    public static async Task<Func<Task>> AnnounceAsync(IApiKeyDriver keys, ApiKeyCache cache, IDbSession session, Guid keyId, CancellationToken cancellationToken)
    {
        await keys.NotifyApiKeyChangedAsync(session, keyId, cancellationToken);
        var listeners = await keys.CountChangeListenersAsync(session, cancellationToken);
        var acknowledged = cache.ExpectAcknowledgements(keyId, listeners);
        return async () =>
        {
            cache.Invalidate(keyId);
            try
            {
                await acknowledged.WaitAsync(AckTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // A listener is reconnecting (it empties its cache when it is back) or its instance is stopping.
            }
        };
    }
}
