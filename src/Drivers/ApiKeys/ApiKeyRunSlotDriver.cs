using Platform.Drivers.Sessions;

namespace Platform.Drivers.ApiKeys;

/// <summary>Gives back an API key's run slots (the timeout job); admission takes them in IRunAdmissionDriver's one statement.</summary>
public interface IApiKeyRunSlotDriver
{
    /// <summary>Gives back run slots of a key (never below zero).</summary>
    Task ReleaseKeyRunSlotsAsync(IDbSession session, Guid tenantId, Guid keyId, int slots, CancellationToken cancellationToken);
}

internal sealed class ApiKeyRunSlotDriver : IApiKeyRunSlotDriver
{
    public async Task ReleaseKeyRunSlotsAsync(IDbSession session, Guid tenantId, Guid keyId, int slots, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE api_keys AS k SET active_runs = greatest(k.active_runs - @slots, 0) WHERE k.tenant_id = @tenantId AND k.id = @keyId",
            new { tenantId, keyId, slots }, cancellationToken);
    }
}
