using Platform.Drivers.Sessions;

namespace Platform.Drivers.DataProtection;

/// <summary>Holds one stored element of the Data Protection key ring: its name and its XML (the key material already encrypted).</summary>
public sealed record StoredKeyElement(string Name, string Xml);

/// <summary>Reads and appends the Data Protection key ring that every instance shares (a global table, not tenant-scoped).</summary>
public interface IDataProtectionKeyDriver
{
    /// <summary>Lists every stored element of the key ring in the order they were stored.</summary>
    Task<IReadOnlyList<StoredKeyElement>> ListKeyElementsAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Appends an element to the key ring; elements are never changed or deleted.</summary>
    Task InsertKeyElementAsync(IDbSession session, StoredKeyElement element, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class DataProtectionKeyDriver : IDataProtectionKeyDriver
{
    public async Task<IReadOnlyList<StoredKeyElement>> ListKeyElementsAsync(IDbSession session, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync<StoredKeyElement>(
            "SELECT name, xml FROM data_protection_keys ORDER BY created_at, name", null, cancellationToken);
        return rows.ToList();
    }

    public async Task InsertKeyElementAsync(IDbSession session, StoredKeyElement element, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@Name, @Xml, @now)",
            new { element.Name, element.Xml, now }, cancellationToken);
    }
}
