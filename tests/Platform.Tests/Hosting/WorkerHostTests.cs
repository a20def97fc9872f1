using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Platform.Tests.Hosting;

/// <summary>Runs the real Worker process: it must start, reach the database and stop cleanly on SIGTERM.</summary>
public sealed class WorkerHostTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task The_worker_starts_connects_and_stops_cleanly_on_sigterm(CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Worker.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Platform"] = DatabaseFixture.AppConnectionString;
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var heartbeat = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            output.Enqueue(e.Data);
            if (e.Data.Contains("Heartbeat: database time", StringComparison.Ordinal))
            {
                heartbeat.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await heartbeat.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill();
            Assert.Fail("No heartbeat within 30 s:\n" + string.Join('\n', output));
        }

        Assert.That(Kill(process.Id, 15), Is.Zero);
        await process.WaitForExitAsync(cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.Zero, string.Join('\n', output));
            Assert.That(output, Has.Some.Contains("Application is shutting down"));
        });
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
