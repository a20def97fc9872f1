using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Runs;

namespace Platform.Drivers.Runs;

/// <summary>Reads the worker registry and reads, writes and admits against the tenant's worker configs.</summary>
public interface IWorkerDriver
{
    /// <summary>Is the channel a catalogue change is announced on, so that every instance drops its copy of the registry.</summary>
    const string CatalogueChannel = "worker_catalogue";

    /// <summary>Lists the whole registry in id order.</summary>
    Task<IReadOnlyList<WorkerSnapshot>> ListWorkersAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Fetches one worker of the registry, or null.</summary>
    Task<WorkerSnapshot?> FetchWorkerAsync(IDbSession session, string workerId, CancellationToken cancellationToken);

    /// <summary>Fetches the tenant's config of a worker, or null when the tenant never configured nor ran it.</summary>
    Task<WorkerConfigSnapshot?> FetchConfigAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken);

    /// <summary>Waits for, then holds until the transaction ends, the tenant's lock on enabling workers (a transaction-level advisory lock,
    /// so that it blocks no admission), and returns the number of the tenant's enabled workers other than the one given, counted after
    /// the lock was taken (ADR 0716).</summary>
    Task<int> LockAndCountOtherEnabledAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the tenant's settings of a worker, keeping its daily counter, and returns the config.</summary>
    /// <summary>Inserts the tenant's config of a worker, enabled, with an empty config and no per-worker limits, unless it has one (a first run, ADR 0771).</summary>
    Task InsertImplicitConfigAsync(IDbSession session, Guid tenantId, string workerId, DateTimeOffset now, CancellationToken cancellationToken);

    Task<WorkerConfigSnapshot> UpsertConfigAsync(IDbSession session, Guid tenantId, string workerId, WorkerConfigChanges changes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Inserts a new worker and its first version; false when the id is taken.</summary>
    Task<bool> TryInsertWorkerAsync(IDbSession session, WorkerDefinition definition, bool isPublic, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Locks a worker's row for a catalogue change and returns it, or null.</summary>
    Task<WorkerSnapshot?> LockWorkerAsync(IDbSession session, string workerId, CancellationToken cancellationToken);

    /// <summary>Records a published version (false when that version exists) and makes it the worker's current definition.</summary>
    Task<bool> TryPublishVersionAsync(IDbSession session, WorkerDefinition definition, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Makes an already published version the worker's current definition again (reversal of a publish).</summary>
    Task RestoreVersionAsync(IDbSession session, string workerId, string version, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets a worker's status and visibility.</summary>
    Task SetStatusAsync(IDbSession session, string workerId, WorkerStatus status, bool isPublic, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists a worker's published versions, newest first.</summary>
    Task<IReadOnlyList<WorkerVersionSnapshot>> ListVersionsAsync(IDbSession session, string workerId, CancellationToken cancellationToken);

    /// <summary>Announces a catalogue change inside the open transaction (delivered at commit).</summary>
    Task NotifyCatalogueChangedAsync(IDbSession session, string workerId, CancellationToken cancellationToken);

    /// <summary>Tells whether the tenant in scope may see a private worker.</summary>
    Task<bool> HasAccessAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken);

    /// <summary>Lists the private workers the tenant in scope was given.</summary>
    Task<IReadOnlyList<string>> ListAccessAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Gives the tenant in scope a private worker; false when it had it.</summary>
    Task<bool> GrantAccessAsync(IDbSession session, Guid tenantId, string workerId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes a private worker from the tenant in scope; false when it did not have it.</summary>
    Task<bool> RevokeAccessAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken);
}

internal sealed class WorkerDriver : IWorkerDriver
{
    private const string WorkerColumns =
        """
        w.id, w.name, w.description, w.base_cents_per_run, w.cents_per_1k_tokens, w.uses_credits, w.credits_per_run, w.version, w.status,
        w.is_public, w.default_config::text AS default_config, w.input_schema::text AS input_schema, w.output_schema::text AS output_schema,
        w.tokens_per_run_estimate, w.updated_at
        """;

    private const string ConfigColumns =
        """
        c.tenant_id, c.worker_id, c.enabled, c.config::text AS config, c.max_runs_per_day, c.max_tokens_per_run,
        (SELECT x.runs_today FROM run_stripe_totals(c.tenant_id, 'worker:' || c.worker_id) x) AS runs_today,
        coalesce((SELECT x.last_run_reset_at FROM run_stripe_totals(c.tenant_id, 'worker:' || c.worker_id) x), c.last_run_reset_at) AS last_run_reset_at,
        c.updated_at
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

    public async Task<int> LockAndCountOtherEnabledAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        // Two statements on purpose: under READ COMMITTED the count's snapshot is taken after the lock is held, so it sees every enable that
        // committed before this transaction got the lock.
        await session.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(hashtextextended('worker_enable:' || @tenantId::text, 0))", new { tenantId }, cancellationToken);
        return await session.QuerySingleAsync<int>(
            "SELECT count(*)::int FROM worker_configs WHERE tenant_id = @tenantId AND enabled AND worker_id <> @workerId",
            new { tenantId, workerId }, cancellationToken);
    }

    public async Task InsertImplicitConfigAsync(IDbSession session, Guid tenantId, string workerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO worker_configs (tenant_id, worker_id, enabled, config, runs_today, last_run_reset_at, created_at, updated_at)
            VALUES (@tenantId, @workerId, true, '{}'::jsonb, 0, @now, @now, @now)
            ON CONFLICT (tenant_id, worker_id) DO NOTHING
            """,
            new { tenantId, workerId, now }, cancellationToken);
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

    private const string DefinitionColumns =
        "name, description, base_cents_per_run, cents_per_1k_tokens, credits_per_run, default_config, input_schema, output_schema, tokens_per_run_estimate";

    public async Task<bool> TryInsertWorkerAsync(IDbSession session, WorkerDefinition definition, bool isPublic, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var inserted = await session.ExecuteAsync(
            """
            INSERT INTO workers (id, name, description, base_cents_per_run, cents_per_1k_tokens, uses_credits, credits_per_run, version, status,
                                 is_public, default_config, input_schema, output_schema, tokens_per_run_estimate, created_at, updated_at)
            VALUES (@Id, @Name, @Description, @BaseCentsPerRun, @CentsPer1kTokens, @CreditsPerRun > 0, @CreditsPerRun, @Version, 'active',
                    @isPublic, @DefaultConfig::jsonb, @InputSchema::jsonb, @OutputSchema::jsonb, @TokensPerRunEstimate, @now, @now)
            ON CONFLICT (id) DO NOTHING
            """,
            new
            {
                definition.Id, definition.Name, definition.Description, definition.BaseCentsPerRun, definition.CentsPer1kTokens, definition.CreditsPerRun,
                definition.Version, isPublic, definition.DefaultConfig, definition.InputSchema, definition.OutputSchema, definition.TokensPerRunEstimate, now,
            },
            cancellationToken);
        if (inserted == 0)
        {
            return false;
        }
        await InsertVersionAsync(session, definition, now, cancellationToken);
        return true;
    }

    public async Task<WorkerSnapshot?> LockWorkerAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {WorkerColumns} FROM workers w WHERE w.id = @workerId FOR UPDATE", new { workerId }, (WorkerRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<bool> TryPublishVersionAsync(IDbSession session, WorkerDefinition definition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await InsertVersionAsync(session, definition, now, cancellationToken))
        {
            return false;
        }
        await RestoreVersionAsync(session, definition.Id, definition.Version, now, cancellationToken);
        return true;
    }

    public async Task RestoreVersionAsync(IDbSession session, string workerId, string version, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            UPDATE workers AS w SET version = v.version, name = v.name, description = v.description, base_cents_per_run = v.base_cents_per_run,
                   cents_per_1k_tokens = v.cents_per_1k_tokens, uses_credits = v.credits_per_run > 0, credits_per_run = v.credits_per_run,
                   default_config = v.default_config, input_schema = v.input_schema, output_schema = v.output_schema,
                   tokens_per_run_estimate = v.tokens_per_run_estimate, updated_at = @now
            FROM worker_versions v
            WHERE w.id = @workerId AND v.worker_id = w.id AND v.version = @version
            """,
            new { workerId, version, now }, cancellationToken);
    }

    public async Task SetStatusAsync(IDbSession session, string workerId, WorkerStatus status, bool isPublic, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE workers SET status = @status, is_public = @isPublic, updated_at = @now WHERE id = @workerId",
            new { workerId, status = status.ToWire(), isPublic, now }, cancellationToken);
    }

    public async Task<IReadOnlyList<WorkerVersionSnapshot>> ListVersionsAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        var rows = await session.ListAsync(
            "SELECT v.worker_id, v.version, v.published_at FROM worker_versions v WHERE v.worker_id = @workerId",
            new { workerId }, (VersionRow r) => new WorkerVersionSnapshot(r.WorkerId, r.Version, r.PublishedAt.ToUtcOffset()), cancellationToken);
        return rows.OrderByDescending(v => WorkerDefinition.TryParseVersion(v.Version, out var x) ? x : default).ToList();
    }

    public async Task NotifyCatalogueChangedAsync(IDbSession session, string workerId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("SELECT pg_notify(@channel, @workerId)", new { channel = IWorkerDriver.CatalogueChannel, workerId }, cancellationToken);
    }

    public async Task<bool> HasAccessAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM worker_access a WHERE a.tenant_id = @tenantId AND a.worker_id = @workerId)",
            new { tenantId, workerId }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListAccessAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            "SELECT a.worker_id FROM worker_access a WHERE a.tenant_id = @tenantId ORDER BY a.worker_id",
            new { tenantId }, (AccessRow r) => r.WorkerId, cancellationToken);
    }

    public async Task<bool> GrantAccessAsync(IDbSession session, Guid tenantId, string workerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "INSERT INTO worker_access (tenant_id, worker_id, granted_at) VALUES (@tenantId, @workerId, @now) ON CONFLICT DO NOTHING",
            new { tenantId, workerId, now }, cancellationToken) > 0;
    }

    public async Task<bool> RevokeAccessAsync(IDbSession session, Guid tenantId, string workerId, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "DELETE FROM worker_access WHERE tenant_id = @tenantId AND worker_id = @workerId", new { tenantId, workerId }, cancellationToken) > 0;
    }

    private static async Task<bool> InsertVersionAsync(IDbSession session, WorkerDefinition d, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            $"""
            INSERT INTO worker_versions (worker_id, version, {DefinitionColumns}, published_at)
            VALUES (@Id, @Version, @Name, @Description, @BaseCentsPerRun, @CentsPer1kTokens, @CreditsPerRun, @DefaultConfig::jsonb,
                    @InputSchema::jsonb, @OutputSchema::jsonb, @TokensPerRunEstimate, @now)
            ON CONFLICT (worker_id, version) DO NOTHING
            """,
            new
            {
                d.Id, d.Version, d.Name, d.Description, d.BaseCentsPerRun, d.CentsPer1kTokens, d.CreditsPerRun, d.DefaultConfig, d.InputSchema,
                d.OutputSchema, d.TokensPerRunEstimate, now,
            },
            cancellationToken) > 0;
    }

    private sealed class VersionRow
    {
        public string WorkerId { get; init; } = "";
        public string Version { get; init; } = "";
        public DateTime PublishedAt { get; init; }
    }

    private sealed class AccessRow
    {
        public string WorkerId { get; init; } = "";
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
        public string Version { get; init; } = "";
        public string Status { get; init; } = "";
        public bool IsPublic { get; init; }
        public string DefaultConfig { get; init; } = "{}";
        public string? InputSchema { get; init; }
        public string? OutputSchema { get; init; }
        public int? TokensPerRunEstimate { get; init; }
        public DateTime UpdatedAt { get; init; }

        public WorkerSnapshot ToSnapshot() => new(
            Id, Name, Description, BaseCentsPerRun, CentsPer1kTokens, UsesCredits, CreditsPerRun, Version, WireNames.Parse<WorkerStatus>(Status),
            IsPublic, DefaultConfig, InputSchema, OutputSchema, TokensPerRunEstimate, UpdatedAt.ToUtcOffset());
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
