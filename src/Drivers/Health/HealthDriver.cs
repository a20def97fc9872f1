using Platform.Drivers.Sessions;
using Platform.Models.Health;

namespace Platform.Drivers.Health;

/// <summary>Answers whether the database takes queries.</summary>
public interface IHealthDriver
{
    /// <summary>Runs a trivial query in the session and returns the server's time.</summary>
    Task<DateTimeOffset> PingAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Reads the jobs' backlog across tenants through the job_lag function (counts only).</summary>
    Task<JobLagSnapshot> ReadJobLagAsync(IDbSession session, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class HealthDriver : IHealthDriver
{
    public async Task<DateTimeOffset> PingAsync(IDbSession session, CancellationToken cancellationToken)
    {
        var now = await session.ExecuteScalarAsync<DateTime>("SELECT now()", null, cancellationToken);
        return Users.UtcTimes.ToUtcOffset(now);
    }

    public Task<JobLagSnapshot> ReadJobLagAsync(IDbSession session, DateTimeOffset now, CancellationToken cancellationToken) =>
        session.QuerySingleAsync<JobLagSnapshot>(
            """
            SELECT outbox_pending AS "OutboxPending", webhook_pending AS "WebhookPending", oldest_due_seconds AS "OldestDueSeconds"
            FROM job_lag(@now)
            """, new { now }, cancellationToken);
}
