using Platform.Drivers.Billing;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Runs one step of a billing job per tenant, safe with many copies of the job running: each tenant is entered as the system (a tenant
/// gone meanwhile is skipped), claimed by locking its row with SKIP LOCKED (a tenant another copy holds is that copy's to decide), and the step
/// re-checks under the lock; its transaction commits only when the step says it changed something. Returns how many steps committed.</summary>
internal sealed class TenantSweep(TenantGate gate, IBillingDriver billing)
{
    public Task<int> ForEachClaimedAsync(IEnumerable<Guid> tenantIds, Func<TenantScope, Task<bool>> step, CancellationToken cancellationToken) =>
        ForEachClaimedAsync(tenantIds, id => id, (scope, _) => step(scope), cancellationToken);

    public async Task<int> ForEachClaimedAsync<T>(
        IEnumerable<T> items, Func<T, Guid> tenantOf, Func<TenantScope, T, Task<bool>> step, CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var item in items)
        {
            var tenantId = tenantOf(item);
            TenantScope scope;
            try
            {
                scope = await gate.EnterAsync(tenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
            }
            catch (NotFoundException)
            {
                continue;
            }
            await using (scope)
            {
                if (!await billing.TryLockTenantSkipLockedAsync(scope.Session, tenantId, cancellationToken) || !await step(scope, item))
                {
                    continue;
                }
                await scope.CommitAsync(cancellationToken);
                done++;
            }
        }
        return done;
    }
}
