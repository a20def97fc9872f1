using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.Engines.Hosting;

/// <summary>Serves observable instruments (whose collection callbacks are synchronous) from one database reading, made through a MediatR request
/// at most once per cache period, so that a scrape never costs a query per instrument; a failed reading is logged and keeps the last one (ADR 0585).</summary>
/// <typeparam name="T">The snapshot the request returns.</typeparam>
public sealed class CachedReading<T>(
    IServiceScopeFactory scopes, Func<IRequest<T>> request, Func<int> cacheMilliseconds, TimeSpan timeout, ILogger logger, string reader)
    where T : class
{
    private readonly Lock gate = new();
    private T? last;
    private long readAt;

    /// <summary>Returns the cached snapshot while it is younger than the cache period, otherwise reads a new one; null until a reading has succeeded.</summary>
    public T? Read()
    {
        lock (gate)
        {
            if (last is not null && Stopwatch.GetElapsedTime(readAt).TotalMilliseconds < cacheMilliseconds())
            {
                return last;
            }
            try
            {
                using var scope = scopes.CreateScope();
                using var cancel = new CancellationTokenSource(timeout);
                last = scope.ServiceProvider.GetRequiredService<IMediator>().Send(request(), cancel.Token).GetAwaiter().GetResult();
                readAt = Stopwatch.GetTimestamp();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning("{Reader} could not read the database: {Error}", reader, e.Message);
            }
            return last;
        }
    }
}
