using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.ApiKeys;

namespace Platform.Drivers.Usage;

/// <summary>Admits and counts a member's requests to a tenant against the per-user rate limit (user_rate_windows, ADR 0715).</summary>
public interface IUserRequestDriver
{
    /// <summary>Counts one request of a member in the sliding one-minute window when the weighted estimate stays below the limit, and
    /// returns the window's count; null when the request is refused or the user is no member of the tenant (nothing is written then).</summary>
    Task<int?> TryCountRequestAsync(IDbSession session, Guid tenantId, Guid userId, DateTimeOffset windowStart, double previousWeight, int limit, CancellationToken cancellationToken);

    /// <summary>Tells whether the user is a member of the tenant.</summary>
    Task<bool> IsMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);

    /// <summary>Reads the member's rate window, or null when there is none.</summary>
    Task<RateWindow?> FetchRateWindowAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken);
}

internal sealed class UserRequestDriver : IUserRequestDriver
{
    public async Task<int?> TryCountRequestAsync(
        IDbSession session, Guid tenantId, Guid userId, DateTimeOffset windowStart, double previousWeight, int limit, CancellationToken cancellationToken)
    {
        // The statement of ApiKeyDriver.TryCountRequestAsync (ADR 0110), inserting only for a member: the row lock serialises every
        // instance, so the count is exact; a non-member inserts nothing (the route's engine then answers 404).
        return await session.QuerySingleOrDefaultAsync<int?>(
            """
            INSERT INTO user_rate_windows AS w (tenant_id, user_id, window_start, request_count, previous_count)
            SELECT m.tenant_id, m.user_id, @windowStart, 1, 0 FROM memberships m WHERE m.tenant_id = @tenantId AND m.user_id = @userId
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET
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
            """,
            new { tenantId, userId, windowStart, previousWeight, limit }, cancellationToken);
    }

    public async Task<bool> IsMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        await session.QuerySingleOrDefaultAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = @tenantId AND user_id = @userId)",
            new { tenantId, userId }, cancellationToken);

    public async Task<RateWindow?> FetchRateWindowAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<RateWindowRow>(
            "SELECT window_start, previous_count, request_count FROM user_rate_windows WHERE tenant_id = @tenantId AND user_id = @userId",
            new { tenantId, userId }, cancellationToken);
        return row is null ? null : new RateWindow(row.WindowStart.ToUtcOffset(), row.PreviousCount, row.RequestCount);
    }

    private sealed class RateWindowRow
    {
        public DateTime WindowStart { get; init; }
        public int PreviousCount { get; init; }
        public int RequestCount { get; init; }
    }
}
