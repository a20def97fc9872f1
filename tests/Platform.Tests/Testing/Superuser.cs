using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Platform.Tests.Testing;

/// <summary>Is a psql session as the test cluster's superuser (over the socket ./platform test or the fixture's own database names), which sees every row despite FORCE ROW LEVEL SECURITY.</summary>
/// <remarks>One process serves many queries: a fingerprint after each refused request then costs the query, not a process start.</remarks>
public sealed class Superuser : IDisposable
{
    private const string End = "__superuser_query_end__";

    /// <summary>Is the fingerprint query: one line "table=rows:md5 of its rows" per table of the public schema but the migrations journal.</summary>
    private const string FingerprintSql =
        """
        SELECT string_agg(format('%s=%s', c.relname,
                 (xpath('/row/f/text()', query_to_xml(format(
                     'SELECT count(*) || '':'' || md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) AS f FROM %I.%I t',
                     n.nspname, c.relname), false, true, '')))[1]::text), ' ' ORDER BY c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'schemaversions';
        """;

    private readonly Process process;

    private Superuser(Process process) => this.process = process;

    /// <summary>Tells whether the run named a superuser socket (PLATFORM_TEST_SUPERUSER_SOCKET, PLATFORM_TEST_PORT).</summary>
    public static bool IsAvailable =>
        Environment.GetEnvironmentVariable("PLATFORM_TEST_SUPERUSER_SOCKET") is { Length: > 0 }
        && Environment.GetEnvironmentVariable("PLATFORM_TEST_PORT") is { Length: > 0 };

    /// <summary>Starts psql as the superuser on the test database.</summary>
    public static Superuser Start()
    {
        var socket = Environment.GetEnvironmentVariable("PLATFORM_TEST_SUPERUSER_SOCKET")!;
        var port = Environment.GetEnvironmentVariable("PLATFORM_TEST_PORT")!;
        var database = new NpgsqlConnectionStringBuilder(DatabaseFixture.OwnerConnectionString).Database!;
        // The binaries scripts/pg.sh chose for the cluster (./platform test and the fixture's own database both name them).
        var psql = Environment.GetEnvironmentVariable("PLATFORM_TEST_PG_BIN") is { Length: > 0 } bin ? Path.Combine(bin, "psql") : "psql";
        string[] arguments = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socket, "-p", port, "-U", "postgres", "-d", database];
        // The cluster authenticates its socket by peer: the postgres system user, which root becomes with runuser.
        var start = Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", .. arguments])
            : new ProcessStartInfo(arguments[0], arguments[1..]);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        return new Superuser(Process.Start(start)!);
    }

    /// <summary>Returns a fingerprint of every row of every table (count and md5 per table).</summary>
    public Task<string> FingerprintAsync() => QueryAsync(FingerprintSql);

    /// <summary>Runs one statement (ending with a semicolon) and returns its output as psql prints it unaligned, without headers.</summary>
    public async Task<string> QueryAsync(string sql)
    {
        await process.StandardInput.WriteLineAsync(sql);
        await process.StandardInput.WriteLineAsync(@"\echo " + End);
        await process.StandardInput.FlushAsync();
        var output = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == End)
            {
                return output.ToString().Trim();
            }
            output.AppendLine(line);
        }
        throw new InvalidOperationException("psql as the superuser ended: " + await process.StandardError.ReadToEndAsync());
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.StandardInput.Close();
            process.WaitForExit(5_000);
        }
        process.Dispose();
    }
}
