using System.Diagnostics;
using System.Text;
using System.Text.Unicode;
using Platform.Api.Input;
using Platform.Engines.Pipeline;
using Platform.Engines.Runs;
using Platform.Engines.Usage;
using Platform.Models;

namespace Platform.UnitTests.Input;

/// <summary>Measures what the text checks add to a request (printed to the test output) and fails only on a gross regression.</summary>
/// <remarks>The bounds are far above the figures seen on the shared 2-core machine even at a load average of 30, so a busy
/// neighbour does not fail them; the printed figures, with the load average, are what to read.</remarks>
public sealed class StorableTextCostTests
{
    private static readonly byte[] RunBody = Encoding.UTF8.GetBytes(
        """{"worker_id":"summarizer","task":"Summarise the quarterly report for the board","input":{"document":"https://example.test/q3.pdf","max_words":200,"tags":["finance","q3"],"language":"en"}}""");

    [Test]
    public void Scanning_a_run_body_costs_microseconds()
    {
        var perCall = Measure(20_000, () => JsonTextScan.FindUnstorable(RunBody, 20));
        TestContext.Out.WriteLine($"scan of a {RunBody.Length}-byte run body: {perCall.TotalMicroseconds:F2} µs{Load()}");
        Assert.That(perCall.TotalMicroseconds, Is.LessThan(500));
    }

    [Test]
    public void Scanning_a_one_megabyte_usage_batch_costs_a_few_milliseconds()
    {
        var json = new StringBuilder("{\"events\":[");
        for (var i = 0; json.Length < 1_000_000; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($$"""{"meter":"api_calls","amount":{{i}},"idempotency_key":"evt-{{i:D8}}-\u00e9\"q\""}""");
        }
        var body = Encoding.UTF8.GetBytes(json.Append("]}").ToString());
        var scan = Measure(20, () => JsonTextScan.FindUnstorable(body, 20));
        var utf8 = Measure(20, () => Utf8.IsValid(body));
        TestContext.Out.WriteLine($"{body.Length:N0}-byte batch: UTF-8 check {utf8.TotalMilliseconds:F3} ms, scan {scan.TotalMilliseconds:F2} ms (every key escaped){Load()}");
        Assert.That(scan.TotalMilliseconds + utf8.TotalMilliseconds, Is.LessThan(1_000));
    }

    [Test]
    public void Inspecting_a_command_costs_microseconds()
    {
        var caller = Caller.User(Guid.NewGuid()) with { Origin = new RequestOrigin("127.0.0.1", "curl/8.5.0", "0HN7:00000001") };
        var run = new CreateRun(caller, Guid.NewGuid(), "summarizer", "Summarise the quarterly report", Encoding.UTF8.GetString(RunBody), null);
        var batch = new RecordUsage(caller, Guid.NewGuid(),
            Enumerable.Range(0, 1_000).Select(i => new UsageEventInput("api_calls", i, $"evt-{i:D8}", null)).ToList());
        var perRun = Measure(50_000, () => StorableTextInspector.Find(run));
        var perBatch = Measure(200, () => StorableTextInspector.Find(batch));
        TestContext.Out.WriteLine($"CreateRun: {perRun.TotalMicroseconds:F2} µs; RecordUsage of 1,000 events: {perBatch.TotalMicroseconds:F1} µs{Load()}");
        Assert.Multiple(() =>
        {
            Assert.That(StorableTextInspector.Find(run), Is.Null);
            Assert.That(perRun.TotalMicroseconds, Is.LessThan(500));
            Assert.That(perBatch.TotalMicroseconds, Is.LessThan(50_000));
        });
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? $" (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})" : "";

    private static TimeSpan Measure(int iterations, Func<object?> action)
    {
        for (var i = 0; i < Math.Min(iterations, 100); i++)
        {
            action();
        }
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            action();
        }
        return Stopwatch.GetElapsedTime(started) / iterations;
    }
}
