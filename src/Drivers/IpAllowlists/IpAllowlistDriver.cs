using Platform.Drivers.Sessions;
using Platform.Models.IpAllowlists;

namespace Platform.Drivers.IpAllowlists;

/// <summary>Reads and replaces a tenant's IP allowlist.</summary>
public interface IIpAllowlistDriver
{
    /// <summary>Lists the tenant's entries in their order.</summary>
    Task<IReadOnlyList<IpAllowlistEntry>> ListEntriesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Replaces the tenant's entries with these, in this order (none empties the list).</summary>
    Task ReplaceEntriesAsync(IDbSession session, Guid tenantId, IReadOnlyList<IpAllowlistEntry> entries, string createdBy, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class IpAllowlistDriver : IIpAllowlistDriver
{
    public async Task<IReadOnlyList<IpAllowlistEntry>> ListEntriesAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            "SELECT cidr, description FROM tenant_ip_allowlist_entries WHERE tenant_id = @tenantId ORDER BY position",
            new { tenantId }, (Row r) => new IpAllowlistEntry(r.Cidr, r.Description), cancellationToken);
    }

    public async Task ReplaceEntriesAsync(IDbSession session, Guid tenantId, IReadOnlyList<IpAllowlistEntry> entries, string createdBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("DELETE FROM tenant_ip_allowlist_entries WHERE tenant_id = @tenantId", new { tenantId }, cancellationToken);
        if (entries.Count == 0)
        {
            return;
        }
        await session.ExecuteAsync(
            """
            INSERT INTO tenant_ip_allowlist_entries (tenant_id, position, cidr, description, created_by, created_at)
            SELECT @tenantId, e.ord::int - 1, e.cidr, d.description, @createdBy, @now
            FROM unnest(@cidrs::text[]) WITH ORDINALITY AS e (cidr, ord)
            JOIN unnest(@descriptions::text[]) WITH ORDINALITY AS d (description, ord) USING (ord)
            """,
            new { tenantId, cidrs = entries.Select(e => e.Cidr).ToArray(), descriptions = entries.Select(e => e.Description).ToArray(), createdBy, now },
            cancellationToken);
    }

    private sealed class Row
    {
        public string Cidr { get; init; } = "";
        public string? Description { get; init; }
    }
}
