using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace Platform.Api.Errors;

/// <summary>Logs each unhandled failure of a request once, with its request id, trace id and route template, at most <see cref="PerMinute"/> times per exception type and route a minute.</summary>
/// <remarks>A flood of one failure (the database down, a bug on a hot route) would otherwise write one stack per request.
/// Past the limit, failures are counted and one line per minute says how many were left out (ADR 0181).</remarks>
internal sealed class FailureLog : IDisposable
{
    /// <summary>Is how many identical failures are logged in full per minute.</summary>
    public const int PerMinute = 10;

    /// <summary>Is the key under which the engines' pipeline puts the name of the command that failed (Exception.Data).</summary>
    public const string CommandKey = "platform.command";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Type, string Route), Counter> counters = new();
    private readonly ILogger<FailureLog> logger;
    private readonly TimeProvider time;
    private readonly ITimer flush;

    public FailureLog(ILogger<FailureLog> logger, TimeProvider time)
    {
        this.logger = logger;
        this.time = time;
        flush = time.CreateTimer(_ => Flush(), null, Window, Window);
    }

    /// <summary>Logs the failure unless its type and route were logged <see cref="PerMinute"/> times in the current minute.</summary>
    public void Unhandled(HttpContext http, Exception exception)
    {
        // The exception handler middleware clears the endpoint before handlers run; its feature keeps the one that failed.
        var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
        var type = exception.GetType().FullName ?? exception.GetType().Name;
        var counter = counters.GetOrAdd((type, route), _ => new Counter(time.GetUtcNow()));
        int suppressed;
        bool log;
        lock (counter)
        {
            suppressed = counter.Roll(time.GetUtcNow());
            log = counter.Logged < PerMinute;
            if (log)
            {
                counter.Logged++;
            }
            else
            {
                counter.Suppressed++;
            }
        }
        if (suppressed > 0)
        {
            LogSuppressed(type, route, suppressed);
        }
        if (log)
        {
            logger.LogError(
                exception,
                "Unhandled {ExceptionType} on {Method} {Route} in {Command} (request {RequestId}, trace {TraceId})",
                type, http.Request.Method, route, exception.Data[CommandKey] as string ?? "-", http.TraceIdentifier,
                Activity.Current?.TraceId.ToString() ?? "-");
        }
    }

    /// <summary>Writes the counts of failures left out in minutes that have ended, and forgets idle routes.</summary>
    public void Flush()
    {
        var now = time.GetUtcNow();
        foreach (var (key, counter) in counters)
        {
            int suppressed;
            lock (counter)
            {
                if (now - counter.Start < Window)
                {
                    continue;
                }
                suppressed = counter.Roll(now);
            }
            if (suppressed > 0)
            {
                LogSuppressed(key.Type, key.Route, suppressed);
            }
            else
            {
                counters.TryRemove(new KeyValuePair<(string, string), Counter>(key, counter));
            }
        }
    }

    public void Dispose() => flush.Dispose();

    private void LogSuppressed(string type, string route, int count) =>
        logger.LogError("Suppressed {Count} identical unhandled {ExceptionType} on {Route} in the last minute", count, type, route);

    /// <summary>Counts one exception type on one route within the current minute.</summary>
    private sealed class Counter(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; private set; } = start;
        public int Logged { get; set; }
        public int Suppressed { get; set; }

        /// <summary>Starts a new minute when the current one has ended and returns how many were left out of the ended one.</summary>
        public int Roll(DateTimeOffset now)
        {
            if (now - Start < Window)
            {
                return 0;
            }
            var suppressed = Suppressed;
            Start = now;
            Logged = 0;
            Suppressed = 0;
            return suppressed;
        }
    }
}
