using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.ApiKeys;

namespace Platform.Drivers.ApiKeys;

/// <summary>Holds the sliding one-minute window counter (ADR 0110) that API keys (api_key_rate_windows) and members (user_rate_windows, ADR 0715)
/// share: one row per tenant and key or user holding the window's start, its count and the previous window's count.</summary>
internal static class SlidingWindows
{
    /// <summary>Writes the one conditional upsert that counts a request: the row rolls forward when a newer window starts (the count it had
    /// becomes the previous count if that window was the one just before, else 0); the request is counted only while the weighted estimate
    /// of the last 60 seconds, floor(previous count x @previousWeight) + this window's count, stays below @limit. A row from a later window
    /// (another instance's clock ahead) counts as current. The row lock serialises every instance, so the count is exact. insertSource gives
    /// the first request's row (tenant, id, @windowStart, 1, 0), as VALUES or a SELECT that may give none; it returns the window's new count,
    /// or no row when refused.</summary>
    public static string CountStatement(string table, string idColumn, string insertSource) =>
        $"""
        INSERT INTO {table} AS w (tenant_id, {idColumn}, window_start, request_count, previous_count)
        {insertSource}
        ON CONFLICT (tenant_id, {idColumn}) DO UPDATE SET
            previous_count = CASE WHEN w.window_start >= EXCLUDED.window_start THEN w.previous_count
                                  WHEN w.window_start = EXCLUDED.window_start - interval '1 minute' THEN w.request_count
                                  ELSE 0 END,
            request_count = CASE WHEN w.window_start >= EXCLUDED.window_start THEN w.request_count + 1 ELSE 1 END,
            window_start = greatest(w.window_start, EXCLUDED.window_start)
        WHERE floor(CASE WHEN w.window_start >= EXCLUDED.window_start THEN w.previous_count
                         WHEN w.window_start = EXCLUDED.window_start - interval '1 minute' THEN w.request_count
                         ELSE 0 END * @previousWeight::float8)
              + CASE WHEN w.window_start >= EXCLUDED.window_start THEN w.request_count ELSE 0 END < @limit
        RETURNING w.request_count
        """;

    /// <summary>Writes the read of one window row by @tenantId and @id.</summary>
    public static string FetchStatement(string table, string idColumn) =>
        $"SELECT window_start, previous_count, request_count FROM {table} WHERE tenant_id = @tenantId AND {idColumn} = @id";

    /// <summary>Reads one window row with a statement of FetchStatement, or null when there is none.</summary>
    public static async Task<RateWindow?> FetchAsync(IDbSession session, string statement, Guid tenantId, Guid id, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<Row>(statement, new { tenantId, id }, cancellationToken);
        return row is null ? null : new RateWindow(row.WindowStart.ToUtcOffset(), row.PreviousCount, row.RequestCount);
    }

    private sealed class Row
    {
        public DateTime WindowStart { get; init; }
        public int PreviousCount { get; init; }
        public int RequestCount { get; init; }
    }
}
