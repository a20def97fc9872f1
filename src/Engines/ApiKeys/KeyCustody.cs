using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.ApiKeys;

/// <summary>Applies the custody rule inside a membership change's transaction: a creator who stops being an admin or owner loses the keys they created, service keys excepted.</summary>
/// <remarks>The caller commits, then runs the returned action, which drops the keys from every instance's cache (ADR 0100, 0195).</remarks>
internal sealed class KeyCustody(IApiKeyDriver keys, ApiKeyCache cache, AuditTrail audit, WebhookEvents events, IClock clock)
{
    /// <summary>Says whether a member with this role may hold the keys they created; creating a key needs admin, so holding one does too.</summary>
    public static bool MayHoldKeys(TenantRole role) => role >= TenantRole.Admin;

    /// <summary>Revokes the user's non-service keys in the tenant with the reason, records one audit row per key, announces each change and returns what must run after the commit.</summary>
    public async Task<Func<Task>> RevokeKeysOfCreatorAsync(
        IDbSession session, Guid tenantId, Guid userId, Caller caller, string reason, CancellationToken cancellationToken)
    {
        var revoked = await keys.RevokeKeysCreatedByAsync(session, tenantId, userId, reason, clock.UtcNow, cancellationToken);
        if (revoked.Count == 0)
        {
            return () => Task.CompletedTask;
        }
        await keys.ReleaseKeySlotsAsync(session, tenantId, revoked.Count, cancellationToken);
        var afterCommits = new List<Func<Task>>(revoked.Count);
        foreach (var key in revoked)
        {
            await audit.RecordAsync(session, tenantId, caller, "api_key.revoked", "api_key", key.Id,
                new { key.Name, key.Prefix, created_by = userId }, new { key.RevokedAt, reason }, cancellationToken);
            await events.EmitAsync(session, tenantId, WebhookEventTypes.ApiKeyRevoked, ApiKeyEventData.From(key), cancellationToken);
            afterCommits.Add(await ApiKeyChanges.AnnounceAsync(keys, cache, session, key.Id, cancellationToken));
        }
        // Every instance acknowledges each key on its own; waiting for them together costs one timeout at most.
        return () => Task.WhenAll(afterCommits.Select(a => a()));
    }
}
