using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Models.Tenants;

namespace Platform.Drivers.Operators;

/// <summary>Reads tenants for the operator console: the search goes through the cross-tenant function admin_search_tenants, the counters through a session scoped to the one tenant.</summary>
public interface IAdminTenantDriver
{
    /// <summary>Searches every tenant by name or slug (case-insensitive substring), status and plan, in id order after a cursor id.</summary>
    Task<IReadOnlyList<TenantSnapshot>> SearchTenantsAsync(
        IDbSession session, string? query, string? status, string? plan, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the members and the open support tickets of the session's tenant.</summary>
    Task<(long Members, long OpenTickets)> CountTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);
}

internal sealed class AdminTenantDriver : IAdminTenantDriver
{
    public async Task<IReadOnlyList<TenantSnapshot>> SearchTenantsAsync(
        IDbSession session, string? query, string? status, string? plan, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT id, name, slug, plan, status, trial_ends_at, suspended_reason, billing_email,
                   max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys,
                   runs_today, runs_this_month, tokens_this_month, last_run_reset_at, onboarding_state,
                   settings, is_synthetic, created_at, updated_at, deleted_at
            FROM admin_search_tenants(@query, @status, @plan, @after, @limit)
            """,
            new { query, status, plan, after, limit }, (TenantRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<(long Members, long OpenTickets)> CountTenantAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var counts = await session.QuerySingleAsync<CountRow>(
            """
            SELECT (SELECT count(*) FROM memberships WHERE tenant_id = @tenantId) AS members,
                   (SELECT count(*) FROM support_tickets WHERE tenant_id = @tenantId AND status NOT IN ('resolved', 'closed')) AS open_tickets
            """,
            new { tenantId }, cancellationToken);
        return (counts.Members, counts.OpenTickets);
    }

    private sealed class CountRow
    {
        public long Members { get; init; }
        public long OpenTickets { get; init; }
    }
}
