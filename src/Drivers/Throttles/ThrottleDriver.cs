using Platform.Drivers.Sessions;

namespace Platform.Drivers.Throttles;

/// <summary>Counts attempts per (scope, subject) in fixed windows in auth_throttle_windows, a global table shared by every instance.</summary>
public interface IThrottleDriver
{
    /// <summary>Counts one attempt in the window starting at windowStart, in one conditional upsert; returns the count, or null when the window already holds limit attempts (refused).</summary>
    Task<int?> TryCountAttemptAsync(
        IDbSession session, string scope, string subject, DateTimeOffset windowStart, DateTimeOffset expiresAt, int limit, CancellationToken cancellationToken);

    /// <summary>Takes back one attempt counted in the window starting at windowStart (a success that was counted as a failure first); nothing when that window has moved on.</summary>
    Task RefundAttemptAsync(IDbSession session, string scope, string subject, DateTimeOffset windowStart, CancellationToken cancellationToken);

    /// <summary>Deletes the windows that ended before a time; returns how many.</summary>
    Task<int> DeleteWindowsEndedBeforeAsync(IDbSession session, DateTimeOffset before, CancellationToken cancellationToken);
}

internal sealed class ThrottleDriver : IThrottleDriver
{
    public async Task<int?> TryCountAttemptAsync(
        IDbSession session, string scope, string subject, DateTimeOffset windowStart, DateTimeOffset expiresAt, int limit, CancellationToken cancellationToken)
    {
        // One conditional upsert (ADR 0101, 0261): a newer window starts at 1; the current one counts up only while below the
        // limit. The row lock serialises concurrent attempts, so the count is exact over any number of instances.
        return await session.QuerySingleOrDefaultAsync<int?>(
            """
            INSERT INTO auth_throttle_windows AS w (scope, subject, window_start, expires_at, attempt_count)
            VALUES (@scope, @subject, @windowStart, @expiresAt, 1)
            ON CONFLICT (scope, subject) DO UPDATE SET
                window_start = greatest(w.window_start, EXCLUDED.window_start),
                expires_at = greatest(w.expires_at, EXCLUDED.expires_at),
                attempt_count = CASE WHEN w.window_start < EXCLUDED.window_start THEN 1 ELSE w.attempt_count + 1 END
            WHERE w.window_start < EXCLUDED.window_start OR w.attempt_count < @limit
            RETURNING w.attempt_count
            """,
            new { scope, subject, windowStart, expiresAt, limit }, cancellationToken);
    }

    public async Task RefundAttemptAsync(IDbSession session, string scope, string subject, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            UPDATE auth_throttle_windows SET attempt_count = attempt_count - 1
            WHERE scope = @scope AND subject = @subject AND window_start = @windowStart AND attempt_count > 0
            """,
            new { scope, subject, windowStart }, cancellationToken);
    }

    public async Task<int> DeleteWindowsEndedBeforeAsync(IDbSession session, DateTimeOffset before, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "DELETE FROM auth_throttle_windows WHERE expires_at < @before", new { before }, cancellationToken);
    }
}
