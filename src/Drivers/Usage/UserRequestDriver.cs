using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
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
    // The statement of ApiKeyDriver.TryCountRequestAsync (ADR 0110), inserting only for a member: a non-member inserts nothing (the route's
    // engine then answers 404).
    private static readonly string CountRequest = SlidingWindows.CountStatement("user_rate_windows", "user_id",
        "SELECT m.tenant_id, m.user_id, @windowStart, 1, 0 FROM memberships m WHERE m.tenant_id = @tenantId AND m.user_id = @id");
    private static readonly string FetchWindow = SlidingWindows.FetchStatement("user_rate_windows", "user_id");

    public async Task<int?> TryCountRequestAsync(
        IDbSession session, Guid tenantId, Guid userId, DateTimeOffset windowStart, double previousWeight, int limit, CancellationToken cancellationToken) =>
        await session.QuerySingleOrDefaultAsync<int?>(CountRequest, new { tenantId, id = userId, windowStart, previousWeight, limit }, cancellationToken);

    public async Task<bool> IsMemberAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        await session.QuerySingleOrDefaultAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = @tenantId AND user_id = @userId)",
            new { tenantId, userId }, cancellationToken);

    public Task<RateWindow?> FetchRateWindowAsync(IDbSession session, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        SlidingWindows.FetchAsync(session, FetchWindow, tenantId, userId, cancellationToken);
}
