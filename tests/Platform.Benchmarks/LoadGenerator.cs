using System.Diagnostics;

namespace Platform.Benchmarks;

/// <summary>Holds what one load run measured: operations, errors, requests per second and latency percentiles in milliseconds.</summary>
internal sealed record LoadResult(long Operations, long Errors, double Seconds, double PerSecond, double P50Ms, double P99Ms, IReadOnlyList<long> PerSecondBuckets)
{
    /// <summary>Gets the slowest call's latency in milliseconds.</summary>
    public double MaxMs { get; init; }

    /// <summary>Gets the slowest call's latency in milliseconds per second of the measured window (by completion), to see when the worst came.</summary>
    public IReadOnlyList<double> MaxMsPerSecond { get; init; } = [];
}

/// <summary>Drives an operation from many concurrent clients for a time after a warm-up and measures throughput and latency.</summary>
internal static class LoadGenerator
{
    /// <summary>Runs op from the given number of clients; each call of op returns whether it succeeded; latencies are per call.</summary>
    public static async Task<LoadResult> RunAsync(int clients, TimeSpan warmup, TimeSpan duration, Func<int, long, Task<bool>> op)
    {
        var stop = false;
        var measuring = false;
        var clock = Stopwatch.StartNew();
        long measureStart = 0;
        var latencies = new List<long>[clients];
        var completions = new List<long>[clients];
        var errors = new long[clients];
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            latencies[client] = new List<long>(100_000);
            completions[client] = new List<long>(100_000);
            long n = 0;
            while (!Volatile.Read(ref stop))
            {
                var started = clock.ElapsedTicks;
                bool ok;
                try
                {
                    ok = await op(client, n++);
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }
                var ended = clock.ElapsedTicks;
                if (Volatile.Read(ref measuring) && started >= Volatile.Read(ref measureStart))
                {
                    latencies[client].Add(ended - started);
                    completions[client].Add(ended);
                    if (!ok)
                    {
                        errors[client]++;
                    }
                }
            }
        })).ToArray();

        await Task.Delay(warmup);
        Volatile.Write(ref measureStart, clock.ElapsedTicks);
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration);
        var measureEnd = clock.ElapsedTicks;
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);

        var start = measureStart;
        var inWindow = Enumerable.Range(0, clients)
            .SelectMany(c => completions[c].Zip(latencies[c]))
            .Where(p => p.First <= measureEnd)
            .ToList();
        var sorted = inWindow.Select(p => p.Second).Order().ToArray();
        var seconds = (measureEnd - start) / (double)Stopwatch.Frequency;
        var buckets = new long[(int)Math.Ceiling(seconds)];
        var maxima = new long[buckets.Length];
        foreach (var (completed, latency) in inWindow)
        {
            var bucket = (int)((completed - start) / Stopwatch.Frequency);
            if (bucket >= 0 && bucket < buckets.Length)
            {
                buckets[bucket]++;
                maxima[bucket] = Math.Max(maxima[bucket], latency);
            }
        }
        return new LoadResult(
            sorted.Length, errors.Sum(), seconds, sorted.Length / seconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99), buckets)
        {
            MaxMs = sorted.Length == 0 ? 0 : sorted[^1] * 1000.0 / Stopwatch.Frequency,
            MaxMsPerSecond = maxima.Select(t => Math.Round(t * 1000.0 / Stopwatch.Frequency)).ToArray(),
        };
    }

    private static double Percentile(long[] sortedTicks, double p) =>
        sortedTicks.Length == 0 ? 0 : sortedTicks[Math.Min(sortedTicks.Length - 1, (int)(p * sortedTicks.Length))] * 1000.0 / Stopwatch.Frequency;
}
