using Platform.Drivers.Sessions;
using Platform.Drivers.Usage;
using Platform.Models;
using Platform.Models.Usage;

namespace Platform.Engines.Plans;

/// <summary>Holds the meter catalogue (meters and their prices per plan) in memory for the hot paths that need a meter's precision, read again
/// after <see cref="TimeToLive"/> or at once after a change made through this instance (ADR 0640). Which meters are summed is decided in SQL
/// from the table itself, so a copy that is out of date affects only the precision check of a meter added in the last minute elsewhere.</summary>
internal sealed class MeterCatalog(IDbSessionFactory sessions, IMeterDriver meters, IClock clock)
{
    /// <summary>Is how long a loaded catalogue is used before it is read again.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(1);

    private volatile Snapshot? loaded;

    /// <summary>Gets the catalogue, reading it in a session of its own when the copy in memory is missing or older than <see cref="TimeToLive"/>.</summary>
    public async Task<Snapshot> GetAsync(CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var current = loaded;
        if (current is not null && now - current.At < TimeToLive && now >= current.At)
        {
            return current;
        }
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        current = await LoadAsync(session, now, cancellationToken);
        await session.CommitAsync(cancellationToken);
        loaded = current;
        return current;
    }

    /// <summary>Reads the catalogue in the given session (which the caller owns) without touching the copy in memory.</summary>
    public async Task<Snapshot> LoadAsync(IDbSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var all = await meters.ListMetersAsync(session, cancellationToken);
        var prices = await meters.ListPricesAsync(session, cancellationToken);
        return new Snapshot(all.ToDictionary(m => m.Key, StringComparer.Ordinal), prices, now);
    }

    /// <summary>Drops the copy in memory: the next use reads the catalogue again.</summary>
    public void Invalidate() => loaded = null;

    /// <summary>Is one reading of the catalogue.</summary>
    public sealed record Snapshot(IReadOnlyDictionary<string, MeterDefinition> Meters, IReadOnlyList<MeterPrice> Prices, DateTimeOffset At)
    {
        /// <summary>Gets a meter's definition, or the default of an unlisted meter (summed, 6 decimals).</summary>
        public MeterDefinition Of(string meter) => Meters.TryGetValue(meter, out var m) ? m : MeterDefinition.Unlisted(meter);
    }
}
