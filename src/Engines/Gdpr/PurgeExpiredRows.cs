using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Gdpr;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.Plans;

namespace Platform.Engines.Gdpr;

/// <summary>Deletes, for every live tenant, the rows of the retention tables older than its effective retention_days (the plan's, or the operator's override) (tables not yet created are skipped); returns the rows deleted.</summary>
public sealed record PurgeExpiredRows(IReadOnlyList<RetentionTable>? Tables = null) : IRequest<long>;

internal sealed class PurgeExpiredRowsHandler(IDbSessionFactory sessions, ITenantDataDriver data, IQuotaDriver quotas, IClock clock, ILogger<PurgeExpiredRowsHandler> logger)
    : IRequestHandler<PurgeExpiredRows, long>
{
    private const int Batch = 200;

    public async Task<long> Handle(PurgeExpiredRows command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var present = new List<RetentionTable>();
        await using (var catalogue = await sessions.OpenAsync(null, null, cancellationToken))
        {
            foreach (var table in command.Tables ?? RetentionTables.All)
            {
                if (await data.TableHasColumnAsync(catalogue, table.Table, table.TimeColumn, cancellationToken))
                {
                    present.Add(table);
                }
            }
        }
        if (present.Count == 0)
        {
            return 0;
        }

        long deleted = 0;
        Guid? after = null;
        while (true)
        {
            IReadOnlyList<(Guid TenantId, string Plan)> tenants;
            await using (var list = await sessions.OpenAsync(null, null, cancellationToken))
            {
                tenants = await data.ListTenantPlansAsync(list, after, Batch, cancellationToken);
            }
            foreach (var (tenantId, plan) in tenants)
            {
                if (PlanCatalog.Find(plan) is not { } catalogued)
                {
                    continue;
                }
                await using var session = await sessions.OpenAsync(tenantId, null, cancellationToken);
                var days = EffectiveLimits.OfPlan(catalogued, await quotas.ListOverridesAsync(session, tenantId, cancellationToken)).RetentionDays;
                if (days == PlanCatalog.Unlimited)
                {
                    continue;
                }
                foreach (var table in present)
                {
                    deleted += await data.DeleteRowsOlderThanAsync(session, table.Table, table.TimeColumn, tenantId, now.AddDays(-days), cancellationToken);
                }
                await session.CommitAsync(cancellationToken);
            }
            if (tenants.Count < Batch)
            {
                break;
            }
            after = tenants[^1].TenantId;
        }
        logger.LogInformation("Retention: deleted {Rows} expired rows", deleted);
        return deleted;
    }
}
