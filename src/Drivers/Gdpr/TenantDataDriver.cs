using Platform.Drivers.Sessions;

namespace Platform.Drivers.Gdpr;

/// <summary>Names one table that holds tenant rows, as found in the catalogue, and whether the session's role may read it.</summary>
public sealed record TenantTable(string Name, string QualifiedName, bool Readable);

/// <summary>Reads and deletes a tenant's rows across every table with a tenant_id column, as the catalogue lists them at run time.</summary>
public interface ITenantDataDriver
{
    /// <summary>Lists the base tables of schema public with a tenant_id column, by name.</summary>
    Task<IReadOnlyList<TenantTable>> ListTenantTablesAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Reads the tenant's rows of one table from the catalogue listing as a JSON array of objects (row-level security still applies).</summary>
    Task<string> ReadRowsAsJsonAsync(IDbSession session, TenantTable table, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Reads the tenant's own row as a JSON object, or null.</summary>
    Task<string?> ReadTenantRowAsJsonAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Lists tenants soft-deleted at or before a time, in id order after a cursor id, across tenants.</summary>
    Task<IReadOnlyList<Guid>> ListTenantsDueForPurgeAsync(IDbSession session, DateTimeOffset deletedBefore, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes every row of a tenant soft-deleted at or before a time (purge_deleted_tenant) and returns the row count, or null when it is not due.</summary>
    Task<long?> PurgeDeletedTenantAsync(IDbSession session, Guid tenantId, DateTimeOffset deletedBefore, CancellationToken cancellationToken);

    /// <summary>Releases a purged tenant's rows in the global name registries (SSO email domain claims, custom domain names), which the purge
    /// cannot reach; refuses (database error) for a tenant that still exists. Returns the rows released.</summary>
    Task<int> ReleasePurgedTenantNamesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Lists live tenants and their plans in id order after a cursor id, across tenants.</summary>
    Task<IReadOnlyList<(Guid TenantId, string Plan)>> ListTenantPlansAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Tells whether schema public holds a table with the given name and column.</summary>
    Task<bool> TableHasColumnAsync(IDbSession session, string table, string column, CancellationToken cancellationToken);

    /// <summary>Deletes the tenant's rows of a table whose time column is before a cutoff; table and column must come from the code's retention list.</summary>
    Task<int> DeleteRowsOlderThanAsync(IDbSession session, string table, string timeColumn, Guid tenantId, DateTimeOffset cutoff, CancellationToken cancellationToken);
}

internal sealed class TenantDataDriver : ITenantDataDriver
{
    public async Task<IReadOnlyList<TenantTable>> ListTenantTablesAsync(IDbSession session, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT c.relname AS name, format('%I.%I', n.nspname, c.relname) AS qualified_name,
                   has_table_privilege(c.oid, 'SELECT') AS readable
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY c.relname
            """, null, (TableRow r) => new TenantTable(r.Name, r.QualifiedName, r.Readable), cancellationToken);
    }

    public async Task<string> ReadRowsAsJsonAsync(IDbSession session, TenantTable table, Guid tenantId, CancellationToken cancellationToken)
    {
        // The qualified name is quoted by format('%I.%I') in ListTenantTablesAsync; it never comes from a request.
        return await session.ExecuteScalarAsync<string>(
            $"SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb)::text FROM {table.QualifiedName} r WHERE r.tenant_id = @tenantId",
            new { tenantId }, cancellationToken) ?? "[]";
    }

    public async Task<string?> ReadTenantRowAsJsonAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<string?>(
            "SELECT to_jsonb(t)::text FROM tenants t WHERE t.id = @tenantId", new { tenantId }, cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> ListTenantsDueForPurgeAsync(IDbSession session, DateTimeOffset deletedBefore, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<Guid>(
            "SELECT id FROM tenants_due_for_purge(@deletedBefore, @after, @limit)", new { deletedBefore, after, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<long?> PurgeDeletedTenantAsync(IDbSession session, Guid tenantId, DateTimeOffset deletedBefore, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<long?>(
            "SELECT purge_deleted_tenant(@tenantId, @deletedBefore)", new { tenantId, deletedBefore }, cancellationToken);
    }

    public async Task<int> ReleasePurgedTenantNamesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>("SELECT release_purged_tenant_names(@tenantId)", new { tenantId }, cancellationToken);
    }

    public async Task<IReadOnlyList<(Guid TenantId, string Plan)>> ListTenantPlansAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<(Guid, string)>(
            "SELECT id, plan FROM tenant_plans(@after, @limit)", new { after, limit }, cancellationToken);
        return rows.ToList();
    }

    public async Task<bool> TableHasColumnAsync(IDbSession session, string table, string column, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            """
            SELECT EXISTS (SELECT 1 FROM pg_class c
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = @column AND NOT a.attisdropped
                           WHERE n.nspname = 'public' AND c.relname = @table AND c.relkind IN ('r', 'p'))
            """, new { table, column }, cancellationToken);
    }

    public async Task<int> DeleteRowsOlderThanAsync(IDbSession session, string table, string timeColumn, Guid tenantId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Identifiers are quoted by PostgreSQL itself; the names come from the code's retention list, never from a request.
        var (quotedTable, quotedColumn) = await session.QuerySingleAsync<(string, string)>(
            "SELECT quote_ident(@table), quote_ident(@timeColumn)", new { table, timeColumn }, cancellationToken);
        return await session.ExecuteAsync(
            $"DELETE FROM public.{quotedTable} WHERE tenant_id = @tenantId AND {quotedColumn} < @cutoff", new { tenantId, cutoff }, cancellationToken);
    }

    private sealed class TableRow
    {
        public string Name { get; init; } = "";
        public string QualifiedName { get; init; } = "";
        public bool Readable { get; init; }
    }
}
