using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Tests.Webhooks;

/// <summary>Runs tests/webhooks/receiver.js, a loopback webhook receiver in node that verifies every request with the standardwebhooks library (the
/// Standard Webhooks reference implementation) and can be told to fail, hang or redirect; reports what each path received.</summary>
public sealed class ReceiverProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Process process;
    private readonly HttpClient client;

    private ReceiverProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public int Port { get; }

    /// <summary>Gives the URL of a receiving path.</summary>
    public string Url(string path) => $"http://127.0.0.1:{Port}/hooks/{path}";

    /// <summary>Finds the folder of the receiver (tests/webhooks) above the test binaries.</summary>
    public static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "webhooks");
            if (File.Exists(Path.Combine(candidate, "receiver.js")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("tests/webhooks/receiver.js was not found above " + AppContext.BaseDirectory);
    }

    public static async Task<ReceiverProcess> StartAsync()
    {
        var folder = Folder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "standardwebhooks")))
        {
            throw new InvalidOperationException("Run `npm ci` in tests/webhooks (./platform test does).");
        }
        var start = new ProcessStartInfo("node", ["receiver.js"])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The receiver did not start: " + line + await process.StandardError.ReadToEndAsync());
        }
        return new ReceiverProcess(process, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Sets how a path behaves: the secrets it verifies with, and how many of its next requests fail (with failStatus), hang or redirect.</summary>
    public async Task ConfigureAsync(string path, IEnumerable<string>? secrets = null, int? fail = null, int? failStatus = null, int? hang = null,
        int? redirect = null, int? delayMs = null, bool? recordBodies = null)
    {
        using var response = await client.PostAsJsonAsync("control", new
        {
            path, secrets = secrets?.ToArray(), fail, fail_status = failStatus, hang, redirect, delay_ms = delayMs, record_bodies = recordBodies,
        }, new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull });
        response.EnsureSuccessStatusCode();
    }

    public async Task<IReadOnlyList<ReceivedRequest>> ReceivedAsync(string path) =>
        await client.GetFromJsonAsync<List<ReceivedRequest>>("received?path=" + Uri.EscapeDataString(path), Json) ?? [];

    public async Task<ReceiverStats> StatsAsync() => (await client.GetFromJsonAsync<ReceiverStats>("stats", Json))!;

    /// <summary>Waits until the path received at least count requests (or the timeout passed) and returns what it received.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(string path, int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var received = await ReceivedAsync(path);
            if (received.Count >= count || DateTime.UtcNow > until)
            {
                return received;
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}

/// <summary>Is one request as the receiver saw it: its webhook-id, whether each configured secret verified it (standardwebhooks' Webhook.verify), and
/// how the receiver answered (ok, fail, hang, redirect).</summary>
public sealed record ReceivedRequest(
    string Id, long At, string? Timestamp, string? Signature, string? UserAgent, string? ContentType, string? Custom, bool[] Verified, string Outcome,
    bool Overlapped, string? Body);

public sealed record ReceiverStats(long Total, int MaxInFlightPerId, int Overlaps, int MaxInFlight = 0, IReadOnlyDictionary<string, int>? MaxInFlightByPath = null);
