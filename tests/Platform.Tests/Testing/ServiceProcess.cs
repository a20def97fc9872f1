using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Platform.Tests.Testing;

/// <summary>Runs the built API or Worker as its own process, as an operator would start it, and keeps every line it prints.</summary>
/// <remarks>The API runs from its own build output (src/Api/bin/&lt;configuration&gt;/net10.0), not from the test folder, whose appsettings.json is the
/// Worker's (both projects copy one there); the Worker runs from the test folder, which holds its build output.</remarks>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();

    private ServiceProcess(Process process, Uri? url)
    {
        this.process = process;
        Url = url;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Gets the API's address, or null for the Worker.</summary>
    public Uri? Url { get; }

    /// <summary>Gets every line printed so far, stdout and stderr together.</summary>
    public IReadOnlyList<string> Lines => lines.ToArray();

    /// <summary>Gets the whole output so far, one line each, for assertion messages.</summary>
    public string Output => string.Join('\n', lines);

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Gets the API's build output folder, which holds its own appsettings.json.</summary>
    public static string ApiFolder
    {
        get
        {
            var testFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return Path.Combine(RepositoryRoot, "src", "Api", "bin", testFolder.Parent!.Name, testFolder.Name);
        }
    }

    /// <summary>Gets the repository's root folder (the one holding Platform.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Platform.sln")))
            {
                root = root.Parent;
            }
            return root?.FullName ?? throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Starts the API with the run's database, a fresh port and the given settings (environment variables), in the given working folder;
    /// without the start-up warm-up unless the settings turn it on (Platform__WarmUp).</summary>
    public static ServiceProcess StartApi(string workingDirectory, IDictionary<string, string>? settings = null, string verb = "serve")
    {
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var start = Start(Path.Combine(ApiFolder, "Platform.Api.dll"), workingDirectory, verb);
        start.Environment["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("ConnectionStrings__PlatformOwner");
        // The start-up warm-up (ADR 0815, 0820: a lane per pooled connection, up to 10 s of load) is proven by WarmUpReadinessTests, which
        // turn it on; elsewhere it would only load the machine under the test's own timings (two processes of ScaleOutTests at once).
        start.Environment["Platform__WarmUp"] = "false";
        Apply(start, settings);
        return new ServiceProcess(Process.Start(start)!, url);
    }

    /// <summary>Starts the Worker with the run's database and the given settings, in the given working folder.</summary>
    public static ServiceProcess StartWorker(string workingDirectory, IDictionary<string, string>? settings = null)
    {
        var start = Start(Path.Combine(AppContext.BaseDirectory, "Platform.Worker.dll"), workingDirectory, null);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        Apply(start, settings);
        return new ServiceProcess(Process.Start(start)!, null);
    }

    /// <summary>Waits until the API answers /healthz, or fails the test with its output when it exits or takes longer than the timeout.</summary>
    public async Task WaitUntilServingAsync(HttpClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                Assert.Fail($"The service exited with {process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri(Url!, "/healthz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100, cancellationToken);
        }
        Assert.Fail($"The service did not answer /healthz within {timeout}:\n{Output}");
    }

    /// <summary>Waits until a printed line contains the text; returns false after the timeout or when the process exits first.</summary>
    public async Task<bool> WaitForLineAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }
            if (process.HasExited)
            {
                // The last lines may still be on their way through the pipes.
                process.WaitForExit();
                return lines.Any(l => l.Contains(text, StringComparison.Ordinal));
            }
            await Task.Delay(50, cancellationToken);
        }
        return false;
    }

    /// <summary>Waits for the process to exit on its own and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager does, and waits for the exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync(CancellationToken cancellationToken)
    {
        _ = Kill(process.Id, 15);
        return await WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    /// <summary>Returns a TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static ProcessStartInfo Start(string dll, string workingDirectory, string? verb)
    {
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built");
        var start = new ProcessStartInfo("dotnet", verb is null ? [dll] : [dll, verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["ConnectionStrings__Platform"] = DatabaseFixture.AppConnectionString;
        start.Environment["DataProtection__KeyEncryptionKey"] = DatabaseFixture.KeyEncryptionKey;
        start.Environment["Platform__RunJobs"] = "false";
        return start;
    }

    private static void Apply(ProcessStartInfo start, IDictionary<string, string>? settings)
    {
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
