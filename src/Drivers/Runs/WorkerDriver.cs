using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Runs;

namespace Platform.Drivers.Runs;

/// <summary>Reads the worker registry and reads, writes and admits against the tenant's worker configs.</summary>
public interface IWorkerDriver
{
    /// <summary>Lists the whole registry in id order.</summary>
    Task<IReadOnlyList<WorkerSnapshot>> ListWorkersAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Fetches one worker of the registry, or null.</summary>
    Task<WorkerSnapshot?> FetchWorkerAsync(IDbSession session, string workerId, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's config of a worker, or null when the tenant never configured nor ran it.</summary>
    Task<WorkerConfigSnapshot?> FetchConfigAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the tenant's settings of a worker, keeping its daily counter, and returns the config.</summary>
    Task<WorkerConfigSnapshot> UpsertConfigAsync(IDbSession session, Guid tenantId, string workerId, WorkerConfigChanges changes, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class WorkerDriver : IWorkerDriver
{
    private const string WorkerColumns = "w.id, w.name, w.description, w.base_cents_per_run, w.cents_per_1k_tokens, w.uses_credits, w.credits_per_run";

    private const string ConfigColumns =
        """
        c.tenant_id, c.worker_id, c.enabled, c.config::text AS config, c.max_runs_per_day, c.max_tokens_per_run,
        c.runs_today, c.last_run_reset_at, c.updated_at
        """;

    public async Task<IReadOnlyList<WorkerSnapshot>> ListWorkersAsync(IDbSession session, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {WorkerColumns} FROM workers w ORDER BY w.id", null, (WorkerRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<WorkerSnapshot?> FetchWorkerAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {WorkerColumns} FROM workers w WHERE w.id = @workerId", new { workerId }, (WorkerRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<WorkerConfigSnapshot?> FetchConfigAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {ConfigColumns} FROM worker_configs c WHERE c.tenant_id = @tenantId AND c.worker_id = @workerId",
            new { tenantId, workerId }, (ConfigRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<WorkerConfigSnapshot> UpsertConfigAsync(IDbSession session, Guid tenantId, string workerId, WorkerConfigChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<ConfigRow>(
            $"""
            INSERT INTO worker_configs AS c (tenant_id, worker_id, enabled, config, max_runs_per_day, max_tokens_per_run,
                                             runs_today, last_run_reset_at, created_at, updated_at)
            VALUES (@tenantId, @workerId, @Enabled, @Config::jsonb, @MaxRunsPerDay, @MaxTokensPerRun, 0, @now, @now, @now)
            ON CONFLICT (tenant_id, worker_id) DO UPDATE SET
                enabled = excluded.enabled, config = excluded.config, max_runs_per_day = excluded.max_runs_per_day,
                max_tokens_per_run = excluded.max_tokens_per_run, updated_at = excluded.updated_at
            RETURNING {ConfigColumns}
            """,
            new { tenantId, workerId, changes.Enabled, changes.Config, changes.MaxRunsPerDay, changes.MaxTokensPerRun, now },
            cancellationToken);
        return row.ToSnapshot();
    }

    private sealed class WorkerRow
    {
        public string Id { get; init; } = "";
        public string Name { get; init; } = "";
        public string Description { get; init; } = "";
        public long BaseCentsPerRun { get; init; }
        public long CentsPer1kTokens { get; init; }
        public bool UsesCredits { get; init; }
        public long CreditsPerRun { get; init; }

        public WorkerSnapshot ToSnapshot() => new(Id, Name, Description, BaseCentsPerRun, CentsPer1kTokens, UsesCredits, CreditsPerRun);
    }

    private sealed class ConfigRow
    {
        public Guid TenantId { get; init; }
        public string WorkerId { get; init; } = "";
        public bool Enabled { get; init; }
        public string Config { get; init; } = "{}";
        public int? MaxRunsPerDay { get; init; }
        public int? MaxTokensPerRun { get; init; }
        public int RunsToday { get; init; }
        public DateTime LastRunResetAt { get; init; }
        public DateTime UpdatedAt { get; init; }

        public WorkerConfigSnapshot ToSnapshot() => new(
            TenantId, WorkerId, Enabled, Config, MaxRunsPerDay, MaxTokensPerRun, RunsToday,
            LastRunResetAt.ToUtcOffset(), UpdatedAt.ToUtcOffset());
    }
}
