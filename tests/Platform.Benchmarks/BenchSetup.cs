using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Benchmarks;

/// <summary>Reads the BENCH_* settings that ./platform bench exports.</summary>
internal sealed class BenchEnvironment
{
    public string Require(string name) =>
        Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set; run ./platform bench.");

    public int Int(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}

/// <summary>Holds pgbench's figures: transactions (script runs) per second and mean latency in milliseconds.</summary>
internal sealed record PgbenchResult(double Tps, double LatencyMs);

/// <summary>Prepares users and tenants over HTTP and runs the database-side baselines (pgbench, COPY, bulk tenants).</summary>
internal sealed partial class BenchSetup(HttpClient http, BenchEnvironment env)
{
    private readonly Dictionary<Guid, Guid> keyIds = [];
    private Guid userId;

    public async Task<string> SignUpAsync()
    {
        using var response = await http.PostAsJsonAsync("/v1/auth/signup",
            new { email = $"bench-{Guid.NewGuid():N}@example.test", password = "bench password 1", name = "Bench" });
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        userId = Guid.Parse((string)body["user"]!["id"]!);
        return (string)body["access_token"]!;
    }

    /// <summary>Creates a tenant over HTTP and lifts its run limits (-1) as the schema owner inside the tenant's scope.</summary>
    public async Task<Guid> CreateUnlimitedTenantAsync(string token, int n)
    {
        // One self-serve trial per user and plan family (ADR 0520): the bench's one user gets an operator's grant for each tenant.
        await using (var grant = new NpgsqlConnection(env.Require("BENCH_OWNER_CS")))
        {
            await grant.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO trial_allowances (id, user_id, plan_family, granted_by_action, created_at) VALUES (gen_random_uuid(), @user, 'enterprise', gen_random_uuid(), now())",
                grant);
            insert.Parameters.AddWithValue("user", userId);
            await insert.ExecuteNonQueryAsync();
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tenants")
        {
            Content = JsonContent.Create(new { name = $"Bench {n}", slug = $"bench-{n}-{Guid.NewGuid().ToString("N")[..8]}", plan = "enterprise" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var tenantId = Guid.Parse((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!);
        await using var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS"));
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, tx))
        {
            scope.Parameters.AddWithValue("t", tenantId.ToString());
            await scope.ExecuteNonQueryAsync();
        }
        await using (var update = new NpgsqlCommand(
            "UPDATE tenants SET max_runs_per_day = -1, max_concurrent_runs = -1, max_tokens_per_month = -1 WHERE id = @id", connection, tx))
        {
            update.Parameters.AddWithValue("id", tenantId);
            await update.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        return tenantId;
    }

    /// <summary>Creates an unlimited tenant whose gpu_hours meter is hard under a finite limit (an operator's override of 1,000,000,000 hours), so that every
    /// reserving quota check of it takes the meter's lock (ADR 0765) and none is refused.</summary>
    public async Task<Guid> CreateHardGpuTenantAsync(string token, int n)
    {
        var tenantId = await CreateUnlimitedTenantAsync(token, n);
        await using var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS"));
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, tx))
        {
            scope.Parameters.AddWithValue("t", tenantId.ToString());
            await scope.ExecuteNonQueryAsync();
        }
        await using (var hard = new NpgsqlCommand(
            """
            INSERT INTO tenant_quota_overrides (tenant_id, quota, value, reason, set_by, created_at, updated_at)
            VALUES (@id, 'gpu_hours_per_month', 1000000000, 'bench', 'bench', now(), now());
            INSERT INTO usage_meter_policies (tenant_id, meter, policy, updated_at) VALUES (@id, 'gpu_hours', 'hard', now())
            """, connection, tx))
        {
            hard.Parameters.AddWithValue("id", tenantId);
            await hard.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        return tenantId;
    }

    /// <summary>Creates an API key of the tenant over HTTP with the run and usage permissions (no rate limit, no run limit) and returns its secret.</summary>
    public async Task<string> CreateKeyAsync(string token, Guid tenantId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/tenants/{tenantId}/api-keys")
        {
            Content = JsonContent.Create(new { name = "bench", permissions = new[] { "runs:read", "runs:write", "usage:read", "usage:write", "quota:check" } }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        keyIds[tenantId] = Guid.Parse((string)body["id"]!);
        return (string)body["key"]!;
    }

    /// <summary>Runs pgbench with one script per tenant holding the statements the service sends for an admission and a completion; a fixed number of scripts per client (-t), since -T can stop a client inside its open transaction while others wait on its locks.</summary>
    public Task<PgbenchResult> RunPgbenchAsync(IReadOnlyList<Guid> tenants, int clients, int scriptsPerClient, bool admitOnly = false) =>
        RunPgbenchAsync(tenants, clients, scriptsPerClient, "admit",
            t => admitOnly ? AdmitScript(t, keyIds[t]) : AdmitScript(t, keyIds[t]) + CompleteScript(t, keyIds[t]));

    /// <summary>Runs the ingestion statement itself under pgbench: 1,000 rows made inside the database per transaction, with the
    /// scope, the tenant read and the audit row the service sends; tps times 1,000 is the statement's ceiling in events/s.</summary>
    public Task<PgbenchResult> RunIngestPgbenchAsync(IReadOnlyList<Guid> tenants, int clients, int scriptsPerClient) =>
        RunPgbenchAsync(tenants, clients, scriptsPerClient, "ingest", IngestScript);

    private async Task<PgbenchResult> RunPgbenchAsync(IReadOnlyList<Guid> tenants, int clients, int scriptsPerClient, string name, Func<Guid, string> script)
    {
        var folder = Directory.CreateTempSubdirectory("platform-pgbench-");
        var args = new List<string>
        {
            "-n", "-h", env.Require("BENCH_PG_HOST"), "-p", env.Require("BENCH_PG_PORT"), "-U", "platform_app",
            "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-t", scriptsPerClient.ToString(CultureInfo.InvariantCulture),
        };
        // pgbench's -d means --debug: the database is the last, positional argument.
        foreach (var tenant in tenants)
        {
            var file = Path.Combine(folder.FullName, $"{name}-{tenant}.sql");
            await File.WriteAllTextAsync(file, script(tenant));
            args.Add("-f");
            args.Add(file);
        }
        args.Add(env.Require("BENCH_PG_DB"));
        var start = new ProcessStartInfo(env.Require("BENCH_PGBENCH")) { RedirectStandardOutput = true, RedirectStandardError = true };
        args.ForEach(start.ArgumentList.Add);
        start.Environment["PGPASSWORD"] = env.Require("BENCH_APP_PASSWORD");
        using var process = Process.Start(start)!;
        // Both pipes are drained at once, so that neither can fill and block pgbench.
        var outputTask = process.StandardOutput.ReadToEndAsync();
        var errorsTask = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await outputTask;
        var errors = await errorsTask;
        folder.Delete(true);
        var tps = TpsPattern().Match(output);
        var latency = LatencyPattern().Match(output);
        if (!tps.Success)
        {
            throw new InvalidOperationException($"pgbench failed: {output}\n{errors}");
        }
        return new PgbenchResult(
            double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture),
            latency.Success ? double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
    }

    /// <summary>Copies rows shaped like usage events into a scratch copy of the table (same columns and key) with binary COPY and returns rows per second.</summary>
    public async Task<double> CopyBaselineAsync(Guid tenantId, int rows)
    {
        await using var connection = new NpgsqlConnection(env.Require("BENCH_OWNER_CS"));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        var now = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY bench_copy (tenant_id, idempotency_key, meter, amount, occurred_at, recorded_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < rows; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(tenantId, NpgsqlDbType.Uuid);
                await writer.WriteAsync($"copy-{i}", NpgsqlDbType.Text);
                await writer.WriteAsync($"m{i % 5}", NpgsqlDbType.Text);
                await writer.WriteAsync((decimal)(i % 97), NpgsqlDbType.Numeric);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }
            await writer.CompleteAsync();
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("DROP TABLE bench_copy", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }
        return rows / elapsed;
    }

    /// <summary>Inserts synthetic tenants as the database superuser (bulk set-up only; the service never does this).</summary>
    public Task AddTenantsAsSuperuserAsync(int count) => RunAsSuperuserAsync(
        $"""
        INSERT INTO tenants (id, name, slug, plan, status, max_workers, max_runs_per_day, max_concurrent_runs,
                             max_tokens_per_month, max_api_keys, is_synthetic)
        SELECT gen_random_uuid(), 'Synthetic ' || g, 'synthetic-' || g, 'free', 'active', 2, 100, 2, 100000, 2, true
        FROM generate_series(1, {count}) g;
        ANALYZE tenants;
        """);

    /// <summary>Deletes the synthetic tenants again as the database superuser (they own no rows), so that the 10-tenant figure can be measured after the 100k one.</summary>
    public Task RemoveSyntheticTenantsAsSuperuserAsync() => RunAsSuperuserAsync(
        """
        DELETE FROM tenants WHERE is_synthetic;
        VACUUM ANALYZE tenants;
        """);

    private Task RunAsSuperuserAsync(string sql) => RunAsSuperuserAsync(env, sql);

    /// <summary>Runs SQL as the database superuser through psql (bulk set-up the service role may not do).</summary>
    internal static async Task RunAsSuperuserAsync(BenchEnvironment env, string sql)
    {
        var file = Path.Combine(Path.GetTempPath(), $"platform-bench-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(file, sql);
        if (!OperatingSystem.IsWindows())
        {
            // psql runs as the postgres system user and must read the file.
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        var start = new ProcessStartInfo("bash", ["-c", env.Require("BENCH_PSQL_SUPER") + " -f " + file]) { RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        File.Delete(file);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("Bulk set-up as the superuser failed: " + errors);
        }
    }

    /// <summary>Builds the admit transaction as the service sends it for an API key caller (one statement per round trip, as the service did before ADR 0160's batching); the counters move in run_admit (ADR 0750).</summary>
    // The statement of UsageDriver.InsertEventsAsync with its rows made by generate_series instead of sent as arrays.
    private static string IngestScript(Guid t) =>
        $"""
        \set b random(1, 2000000000)
        BEGIN;
        SELECT set_config('app.tenant_id', '{t}', true), set_config('app.user_id', '', true);
        SELECT t.id, t.name, t.slug, t.plan, t.status FROM tenants t WHERE t.id = '{t}';
        WITH inserted AS (INSERT INTO usage_events (tenant_id, idempotency_key, meter, amount, occurred_at, recorded_at) SELECT '{t}', e.k, e.m, e.a, e.o, now() FROM (SELECT 'pgbench-' || :b || '-' || lpad(g::text, 4, '0') AS k, 'm' || (g % 5) AS m, (g % 97)::numeric AS a, now() AS o FROM generate_series(1, 1000) g) e ORDER BY e.k ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING meter, amount, occurred_at), sums AS (SELECT i.meter, date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date AS period_start, sum(i.amount) AS added FROM inserted i GROUP BY 1, 2), rolled AS (INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at) SELECT '{t}', x.meter, x.period_start, x.added, now() FROM sums x ORDER BY x.meter, x.period_start ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET used = u.used + excluded.used, updated_at = excluded.updated_at RETURNING u.meter, u.period_start, u.used) SELECT c.n AS inserted, r.meter, r.used, x.added FROM (SELECT count(*)::int AS n FROM inserted) c LEFT JOIN (rolled r JOIN sums x ON x.meter = r.meter AND x.period_start = r.period_start) ON true ORDER BY r.meter, r.period_start;
        INSERT INTO audit_log (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, old_values, new_values) VALUES ('{t}', gen_random_uuid(), now(), 'system', NULL, 'usage.recorded', 'usage', NULL, NULL, '{"{"}"accepted":1000,"duplicates":0{"}"}'::jsonb);
        COMMIT;

        """;

    private static string AdmitScript(Guid t, Guid k) =>
        $"""
        BEGIN;
        SELECT set_config('app.tenant_id', '{t}', true), set_config('app.user_id', '', true);
        SELECT t.id, t.name, t.slug, t.plan, t.status, t.max_runs_per_day, t.max_concurrent_runs FROM tenants t WHERE t.id = '{t}';
        SELECT w.id, w.base_cents_per_run, w.credits_per_run FROM workers w WHERE w.id = 'summarizer';
        INSERT INTO runs (tenant_id, id, worker_id, task, input, status, parent_run_id, attempt, actor_type, actor_id, api_key_id, max_tokens_per_run, started_at) VALUES ('{t}', gen_random_uuid(), 'summarizer', 'bench', NULL, 'running', NULL, 1, 'api_key', '{k}', '{k}', NULL, now()) RETURNING quote_literal(id) AS run_id, quote_literal('run:' || id || ':runs') AS runs_key, quote_literal('run:' || id || ':tokens') AS tokens_key
        \gset
        INSERT INTO audit_log (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, old_values, new_values) VALUES ('{t}', gen_random_uuid(), now(), 'api_key', '{k}', 'run.created', 'run', :run_id, NULL, '{"{"}"worker_id":"summarizer","attempt":1,"status":"running"{"}"}'::jsonb);
        SELECT * FROM run_admit('{t}', 'summarizer', '{k}', get_byte(uuid_send(:run_id::uuid), 15) % 32, now(), date_trunc('day', now()), date_trunc('month', now()));
        COMMIT;

        """;

    /// <summary>Builds the complete transaction as the service sends it for an API key caller, for the run the admit script created.</summary>
    private static string CompleteScript(Guid t, Guid k) =>
        $"""
        BEGIN;
        SELECT set_config('app.tenant_id', '{t}', true), set_config('app.user_id', '', true);
        SELECT t.id, t.name, t.slug, t.plan, t.status, t.max_runs_per_day, t.max_concurrent_runs FROM tenants t WHERE t.id = '{t}';
        SELECT r.id, r.status, r.worker_id, r.api_key_id FROM runs r WHERE r.tenant_id = '{t}' AND r.id = :run_id;
        SELECT w.id, w.base_cents_per_run FROM workers w WHERE w.id = 'summarizer';
        UPDATE runs AS r SET status = 'succeeded', output = NULL, error = NULL, total_tokens = 1200, latency_ms = 5, cost_cents = 4, stages = NULL, recoveries = NULL, policy_violations = NULL, completed_at = now() WHERE r.tenant_id = '{t}' AND r.id = :run_id AND r.status = 'running' RETURNING r.id;
        WITH inserted AS (INSERT INTO usage_events (tenant_id, idempotency_key, meter, amount, occurred_at, recorded_at) SELECT '{t}', e.k, e.m, e.a, now(), now() FROM unnest(ARRAY[:runs_key, :tokens_key], ARRAY['runs', 'tokens'], ARRAY[1, 1200]::numeric[]) WITH ORDINALITY AS e(k, m, a, n) ORDER BY e.n ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING meter, amount, occurred_at), rolled AS (INSERT INTO usage_rollups AS u (tenant_id, meter, period_start, used, updated_at) SELECT '{t}', i.meter, date_trunc('month', i.occurred_at AT TIME ZONE 'UTC')::date, sum(i.amount), now() FROM inserted i GROUP BY 2, 3 ORDER BY 2, 3 ON CONFLICT (tenant_id, meter, period_start) DO UPDATE SET used = u.used + excluded.used, updated_at = excluded.updated_at) SELECT count(*)::int FROM inserted;
        INSERT INTO audit_log (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, old_values, new_values) VALUES ('{t}', gen_random_uuid(), now(), 'api_key', '{k}', 'run.completed', 'run', :run_id, '{"{"}"status":"running"{"}"}'::jsonb, '{"{"}"status":"succeeded","total_tokens":1200,"latency_ms":5,"cost_cents":4{"}"}'::jsonb);
        WITH k AS (UPDATE run_admission_stripes AS s SET active_runs = greatest(s.active_runs - 1, 0) WHERE s.tenant_id = '{t}' AND s.scope = 'key:{k}' AND s.stripe = get_byte(uuid_send(:run_id::uuid), 15) % 32 RETURNING 1), ts AS (UPDATE run_admission_stripes AS s SET active_runs = greatest(s.active_runs - 1, 0) WHERE s.tenant_id = '{t}' AND s.scope = 'tenant' AND s.stripe = get_byte(uuid_send(:run_id::uuid), 15) % 32 AND (SELECT count(*) FROM k) >= 0 RETURNING 1) UPDATE tenants AS t SET tokens_this_month = (CASE WHEN t.last_run_reset_at < date_trunc('month', now()) THEN 0 ELSE t.tokens_this_month END) + 1200, last_run_reset_at = (CASE WHEN t.last_run_reset_at < date_trunc('day', now()) THEN now() ELSE t.last_run_reset_at END) WHERE t.id = '{t}' AND (SELECT count(*) FROM ts) >= 0;
        COMMIT;

        """;

    [GeneratedRegex(@"tps = ([0-9.]+)")]
    private static partial Regex TpsPattern();

    [GeneratedRegex(@"latency average = ([0-9.]+) ms")]
    private static partial Regex LatencyPattern();
}
