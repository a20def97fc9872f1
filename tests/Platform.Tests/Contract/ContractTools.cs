using System.Diagnostics;
using System.Text;

namespace Platform.Tests.Contract;

/// <summary>Runs the npm tools of tests/contract (Spectral, openapi-typescript, tsc, node) as a client's toolchain would, installing them with npm ci when node_modules is missing or older than the lock file.</summary>
public static class ContractTools
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    /// <summary>Gets the folder tests/contract of the repository (package.json, the lock file, the integration script).</summary>
    public static string Folder { get; } = FindFolder();

    public static string Bin(string tool) => Path.Combine(Folder, "node_modules", ".bin", tool);

    /// <summary>Installs the locked packages unless node_modules is already there and newer than package-lock.json (./platform test does the same first).</summary>
    public static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            var marker = Path.Combine(Folder, "node_modules", ".package-lock.json");
            var lockFile = Path.Combine(Folder, "package-lock.json");
            if (File.Exists(marker) && File.GetLastWriteTimeUtc(marker) >= File.GetLastWriteTimeUtc(lockFile))
            {
                return;
            }
            var result = await RunAsync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
            Assert.That(result.ExitCode, Is.Zero, $"npm ci failed:\n{result.Output}");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Runs a program in tests/contract and returns its exit code and its interleaved output; kills it after the timeout.</summary>
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.\n{stdout}\n{stderr}");
        }
        process.WaitForExit();
        return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "contract");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("tests/contract/package.json was not found above the test directory.");
    }
}

/// <summary>Is the outcome of one tool run: exit code, standard output and standard error.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;
}
