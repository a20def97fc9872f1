using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using Platform.Models.Errors;

namespace Platform.Engines.Pipeline;

/// <summary>Logs each command's name, tenant id and duration in milliseconds, and refusals at information level.</summary>
internal sealed class LoggingBehavior<TRequest, TResponse>(ILogger<LoggingBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
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
            logger.LogInformation("{Command} for tenant {TenantId} refused with {Code} after {ElapsedMs:F1} ms", name, tenantId, e.Code, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Command} for tenant {TenantId} failed after {ElapsedMs:F1} ms", name, tenantId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
    }
}
