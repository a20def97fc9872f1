using Platform.Drivers.Runs;
using Platform.Engines.Sessions;
using Platform.Models.Errors;

namespace Platform.Engines.Runs;

/// <summary>Decides whether a tenant may enable one more worker: the explicit enable (PUT /workers/{id}/config, ADR 0716) and a first run of a worker
/// the tenant has no config of (ADR 0771) both ask here, under the tenant's enable lock, so exactly the effective max_workers get in.</summary>
internal static class WorkerSlots
{
    /// <summary>Refuses (409 max_workers_exceeded, naming the quota, its limit and the current count) enabling one more worker than the tenant's effective
    /// max_workers (plan, then the operator's override); parallel enables of one tenant queue on its enable lock until the transaction ends.</summary>
    public static async Task RequireAsync(TenantScope scope, IWorkerDriver workers, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        var max = (await scope.LimitsAsync(cancellationToken))?.MaxWorkers ?? scope.Tenant.MaxWorkers;
        if (max == PlanQuota.Unlimited)
        {
            return;
        }
        var enabled = await workers.LockAndCountOtherEnabledAsync(scope.Session, tenantId, workerId, cancellationToken);
        if (enabled >= max)
        {
            throw new ConflictException(
                $"This tenant may have {max} workers enabled (max_workers) and has {enabled}: disable one first, or move to a plan with more.",
                "max_workers_exceeded")
            {
                Extensions = new Dictionary<string, object?> { ["quota"] = Platform.Models.Plans.Quotas.MaxWorkers, ["limit"] = max, ["current"] = enabled },
            };
        }
    }
}
