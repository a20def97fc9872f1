using System.Diagnostics;
using Npgsql;

namespace Platform.Tests.Testing;

/// <summary>Is the throwaway PostgreSQL that a run starts for itself when ./platform test did not start one (dotnet test from an IDE or the command line).</summary>
/// <remarks>
/// It starts and stops the cluster through scripts/test-db.sh, which uses the same functions of scripts/pg.sh as ./platform test
/// (find or install the server binaries, initdb with durability off, a free loopback port, db/bootstrap.sql for the roles and the
/// database), so the two ways of running the tests cannot drift apart.
/// </remarks>
public sealed class OwnDatabase
{
    private readonly string root;
    private readonly string folder;
    private int stopped;

    private OwnDatabase(string root, string folder, IReadOnlyDictionary<string, string> values)
    {
        this.root = root;
        this.folder = folder;
        var host = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = int.Parse(values["PORT"], System.Globalization.CultureInfo.InvariantCulture), Database = values["DATABASE"] };
        AppConnectionString = new NpgsqlConnectionStringBuilder(host.ConnectionString)
        {
            Username = "platform_app", Password = values["APP_PASSWORD"], MaxPoolSize = 100,
        }.ConnectionString;
        OwnerConnectionString = new NpgsqlConnectionStringBuilder(host.ConnectionString)
        {
            Username = "platform_owner", Password = values["OWNER_PASSWORD"],
        }.ConnectionString;
        Port = values["PORT"];
        Socket = values["SOCKET"];
        Binaries = values["BIN"];
    }

    /// <summary>Gets the service's connection string (platform_app, which owns nothing and is subject to row-level security).</summary>
    public string AppConnectionString { get; }

    /// <summary>Gets the schema owner's connection string (platform_owner, which runs the migrations).</summary>
    public string OwnerConnectionString { get; }

    /// <summary>Gets the cluster's port on 127.0.0.1.</summary>
    public string Port { get; }

    /// <summary>Gets the folder of the cluster's Unix socket, where its superuser connects.</summary>
    public string Socket { get; }

    /// <summary>Gets the folder of the PostgreSQL binaries the script chose.</summary>
    public string Binaries { get; }

    /// <summary>Returns the repository root: the first folder at or above the test assembly's that holds Platform.sln.</summary>
    public static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Platform.sln at or above {AppContext.BaseDirectory}: cannot find scripts/test-db.sh to start a test database.");
    }

    /// <summary>Creates and starts a cluster in a new folder under the system's temporary folder (about 2 seconds).</summary>
    public static OwnDatabase Start()
    {
        var root = FindRepositoryRoot();
        var folder = Directory.CreateTempSubdirectory("platform-test.").FullName;
        try
        {
            var output = RunScript(root, "start", folder);
            var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split('=', 2))
                .Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
            return new OwnDatabase(root, folder, values);
        }
        catch
        {
            RunScript(root, "stop", folder);
            throw;
        }
    }

    /// <summary>Stops the cluster and deletes its folder; a second call does nothing.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0)
        {
            NpgsqlConnection.ClearAllPools();
            RunScript(root, "stop", folder);
        }
    }

    /// <summary>Stops the cluster (fast shutdown: open connections are terminated) and keeps its folder, for a database outage.</summary>
    public void Pause() => RunScript(root, "pause", folder);

    /// <summary>Starts the paused cluster again on its port.</summary>
    public void Resume() => RunScript(root, "resume", folder, Port);

    private static string RunScript(string root, string verb, string folder, string? port = null)
    {
        var start = new ProcessStartInfo("bash", port is null
            ? [Path.Combine(root, "scripts", "test-db.sh"), verb, folder]
            : [Path.Combine(root, "scripts", "test-db.sh"), verb, folder, port])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        // Installing the server package on a fresh machine takes a while; starting a cluster takes about 2 seconds.
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"scripts/test-db.sh {verb} did not finish in 5 minutes.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/test-db.sh {verb} failed ({process.ExitCode}): {error.Result}");
        }
        return output;
    }
}
