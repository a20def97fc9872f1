using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Platform.Api.Errors;
using Platform.Api.Hosting;

namespace Platform.Api.Runs;

/// <summary>Bounds how many run admissions and completions execute at once and queues the rest first in, first out (ASP.NET Core's
/// rate-limiting middleware with one shared ConcurrencyLimiter, QueueProcessingOrder.OldestFirst; ADR 0800). On a CPU-bound machine
/// the closed loop's latency then becomes about connections / throughput for every request, instead of a few requests losing every
/// race for the cores, the thread pool and the database pool. Platform:AdmissionConcurrency=0 turns it off.</summary>
public static class AdmissionConcurrency
{
    /// <summary>Is the rate-limiting policy the admission and completion routes name.</summary>
    public const string Policy = "admission";

    /// <summary>Is the OpenAPI description of the 503 a full queue answers.</summary>
    public const string QueueFull = "`admission_queue_full`: more admissions are waiting in this process than Platform:AdmissionQueueLimit allows; "
        + "nothing is written, retry after Retry-After (ADR 0800). A database outage answers 503 too.";

    /// <summary>Is the Retry-After, in seconds, of a request refused because the queue is full.</summary>
    public const int RetryAfterSeconds = 1;

    public static IServiceCollection AddAdmissionConcurrency(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<PlatformOptions>((limiter, platform) =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.OnRejected = RejectAsync;
            if (platform.AdmissionConcurrency <= 0)
            {
                limiter.AddPolicy(Policy, _ => RateLimitPartition.GetNoLimiter(0));
                return;
            }
            // One limiter shared by every tenant (a constant partition): fairness is the arrival order, whoever the caller is.
            limiter.AddConcurrencyLimiter(Policy, o =>
            {
                o.PermitLimit = platform.AdmissionConcurrency;
                o.QueueLimit = platform.AdmissionQueueLimit;
                o.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });
        return services;
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        // The queue is full: the service is overloaded, not the caller's quota; answer as the database outage does (ADR 0661), never 500.
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problem = Problems.Create(503, "admission_queue_full", "Service unavailable",
            "Too many run admissions are waiting at the moment; retry after the time in Retry-After.");
        await http.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
    }
}
