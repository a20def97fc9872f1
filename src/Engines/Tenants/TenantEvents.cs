using Platform.Drivers.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Tenants;

/// <summary>Emits tenant.suspended and tenant.unsuspended for a status change, whoever made it (an operator, dunning, the end of a trial).</summary>
public static class TenantEvents
{
    /// <summary>Emits tenant.suspended when the tenant became suspended, tenant.unsuspended when it stopped being suspended (not by deletion); nothing otherwise.</summary>
    public static async Task StatusChangedAsync(WebhookEvents events, IDbSession session, TenantSnapshot before, TenantSnapshot after, CancellationToken cancellationToken)
    {
        if (after.Status == TenantStatus.Suspended && before.Status != TenantStatus.Suspended)
        {
            await events.EmitAsync(session, after.Id, WebhookEventTypes.TenantSuspended,
                new TenantStatusEventData(after.Status, before.Status, after.SuspendedReason), cancellationToken);
        }
        else if (before.Status == TenantStatus.Suspended && after.Status is not TenantStatus.Suspended and not TenantStatus.Deleted)
        {
            await events.EmitAsync(session, after.Id, WebhookEventTypes.TenantUnsuspended,
                new TenantStatusEventData(after.Status, before.Status, before.SuspendedReason), cancellationToken);
        }
    }
}
