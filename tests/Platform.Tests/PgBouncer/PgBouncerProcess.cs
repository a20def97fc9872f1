using System.Diagnostics;
using Npgsql;

namespace Platform.Tests.PgBouncer;

/// <summary>Runs Debian's pgbouncer (installed by ./platform test's ensure_pgbouncer) on a free loopback port in transaction pooling mode, in front
/// of the run's database, for the service role only; as the postgres system user when we are root (pgbouncer refuses root).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class PgBouncerProcess : IDisposable
{
    private readonly Process process;
    private readonly string folder;

    private PgBouncerProcess(Process process, string folder, string connectionString)
    {
        this.process = process;
        this.folder = folder;
        ConnectionString = connectionString;
    }

    /// <summary>Gets the service role's connection string through PgBouncer: no automatic preparation (1.18 has no prepared statements in
    /// transaction mode) and no reset on close (PgBouncer resets server connections itself), as the README says (ADR 0662).</summary>
    public string ConnectionString { get; }

    public static async Task<PgBouncerProcess> StartAsync(string directConnectionString, int poolSize = 10)
    {
        var direct = new NpgsqlConnectionStringBuilder(directConnectionString);
        var folder = Directory.CreateTempSubdirectory("platform-pgbouncer.").FullName;
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        var port = ServiceProcess.FreePort();
        await File.WriteAllTextAsync(Path.Combine(folder, "userlist.txt"), $"\"{direct.Username}\" \"{direct.Password}\"\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "pgbouncer.ini"), $"""
            [databases]
            {direct.Database} = host={direct.Host} port={direct.Port} dbname={direct.Database}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = scram-sha-256
            auth_file = {folder}/userlist.txt
            pool_mode = transaction
            default_pool_size = {poolSize}
            max_client_conn = 1000
            server_reset_query =
            ignore_startup_parameters = extra_float_digits,options
            logfile = {folder}/pgbouncer.log
            """);
        foreach (var file in Directory.GetFiles(folder))
        {
            File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        }
        var root = Environment.UserName == "root";
        var binary = File.Exists("/usr/sbin/pgbouncer") ? "/usr/sbin/pgbouncer" : "pgbouncer";
        var start = new ProcessStartInfo(root ? "runuser" : binary,
            root ? ["-u", "postgres", "--", binary, Path.Combine(folder, "pgbouncer.ini")] : [Path.Combine(folder, "pgbouncer.ini")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("pgbouncer did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var through = new NpgsqlConnectionStringBuilder(directConnectionString)
        {
            Host = "127.0.0.1",
            Port = port,
            MaxAutoPrepare = 0,
            NoResetOnClose = true,
        }.ConnectionString;
        var bouncer = new PgBouncerProcess(process, folder, through);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(through);
                await connection.OpenAsync();
                return bouncer;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (Exception e)
            {
                var log = bouncer.Log;
                bouncer.Dispose();
                throw new InvalidOperationException("pgbouncer did not accept connections: " + e.Message + "\n" + log, e);
            }
        }
    }

    /// <summary>Gets PgBouncer's log so far.</summary>
    public string Log
    {
        get
        {
            var path = Path.Combine(folder, "pgbouncer.log");
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return new StreamReader(stream).ReadToEnd();
            }
            catch (IOException)
            {
                return "";
            }
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
