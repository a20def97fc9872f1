using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Models.Errors;

namespace Platform.Engines.Pipeline;

/// <summary>Logs each command's name, tenant id and duration in milliseconds, and refusals at information level.</summary>
/// <remarks>An unexpected exception is not logged here but rethrown with the command's name in its Data ("platform.command"): the
/// caller that catches it (the API's exception handler, a job's loop) logs it once, with its own context (ADR 0181).</remarks>
internal sealed class LoggingBehavior<TRequest, TResponse>(ILogger<LoggingBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    /// <summary>Is the key of Exception.Data that names the (innermost) command an unexpected exception escaped from.</summary>
    public const string CommandKey = "platform.command";

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        var name = typeof(TRequest).Name;
        var tenantId = (request as ITenantCommand)?.TenantId;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await next();
            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug("{Command} for tenant {TenantId} took {ElapsedMs:F1} ms", name, tenantId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            return response;
        }
        catch (PlatformException e)
        {
            // Expected refusals (the start-up warm-up's unknown key, ADR 0800) are not news: debug level.
            logger.Log(RefusalLog.IsQuiet ? LogLevel.Debug : LogLevel.Information,
                "{Command} for tenant {TenantId} refused with {Code} after {ElapsedMs:F1} ms", name, tenantId, e.Code, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (!e.Data.IsReadOnly && !e.Data.Contains(CommandKey))
            {
                e.Data[CommandKey] = name;
            }
            logger.LogDebug("{Command} for tenant {TenantId} failed with {ExceptionType} after {ElapsedMs:F1} ms", name, tenantId, e.GetType().Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
    }
}
