using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Gdpr;
using Platform.Drivers.Sessions;
using Platform.Models;

namespace Platform.Engines.Gdpr;

/// <summary>Deletes every row of each tenant soft-deleted longer ago than the retention window (default 30 days), one tenant per transaction, and releases
/// its names in the global registries (SSO domain claims, custom domain names); returns the tenants purged.</summary>
public sealed record PurgeDeletedTenants(int? RetentionDays = null) : IRequest<IReadOnlyList<Guid>>;

internal sealed class PurgeDeletedTenantsHandler(
    IDbSessionFactory sessions, ITenantDataDriver data, RetentionOptions options, IClock clock, ILogger<PurgeDeletedTenantsHandler> logger)
    : IRequestHandler<PurgeDeletedTenants, IReadOnlyList<Guid>>
{
    private const int Batch = 100;

    public async Task<IReadOnlyList<Guid>> Handle(PurgeDeletedTenants command, CancellationToken cancellationToken)
    {
        var deletedBefore = clock.UtcNow.AddDays(-(command.RetentionDays ?? options.DeletedTenantDays));
        var purged = new List<Guid>();
        Guid? after = null;
        while (true)
        {
            IReadOnlyList<Guid> due;
            await using (var list = await sessions.OpenAsync(null, null, cancellationToken))
            {
                due = await data.ListTenantsDueForPurgeAsync(list, deletedBefore, after, Batch, cancellationToken);
            }
            foreach (var tenantId in due)
            {
                // purge_deleted_tenant re-checks the deletion time under the tenant row's lock, so concurrent jobs purge once.
                await using var session = await sessions.OpenAsync(null, null, cancellationToken);
                var rows = await data.PurgeDeletedTenantAsync(session, tenantId, deletedBefore, cancellationToken);
                if (rows is not null)
                {
                    // Its SSO email domains and custom domain names become free for other tenants in the same transaction (ADR 0734).
                    rows += await data.ReleasePurgedTenantNamesAsync(session, tenantId, cancellationToken);
                }
                await session.CommitAsync(cancellationToken);
                if (rows is not null)
                {
                    purged.Add(tenantId);
                    logger.LogInformation("Purged deleted tenant {TenantId}: {Rows} rows", tenantId, rows);
                }
            }
            if (due.Count < Batch)
            {
                return purged;
            }
            after = due[^1];
        }
    }
}
