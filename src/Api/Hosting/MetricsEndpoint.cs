using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Platform.Engines.Hosting;

namespace Platform.Api.Hosting;

/// <summary>Holds the metrics endpoint's settings (section "Metrics").</summary>
public sealed class MetricsOptions
{
    /// <summary>Gets or sets the bearer token a scraper off the machine must send to /metrics; without it only loopback may scrape (Metrics:ScrapeToken).</summary>
    [MinLength(16)]
    public string? ScrapeToken { get; set; }
}

/// <summary>Adds OpenTelemetry to the API (ASP.NET Core spans and metrics, the engines' and Npgsql's) and serves the metrics in Prometheus's text
/// format at /metrics to loopback, or to a scraper holding Metrics:ScrapeToken (ADR 0584).</summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void AddPlatformMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddFeatureOptions<MetricsOptions>("Metrics");
        builder.Services.AddPlatformTelemetry(builder.Configuration, "platform-api",
            tracing => tracing.AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments(Path)),
            // No response cache: each scrape collects afresh (the gauges that read the database keep their own short cache).
            metrics => metrics.AddAspNetCoreInstrumentation().AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
    }

    public static void UsePlatformMetrics(this WebApplication app)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider: null, predicate: http => http.Request.Path == Path, path: null,
            configureBranchedPipeline: branch => branch.Use(RefuseOthersAsync), optionsName: null);
        // Seed 003's per-tenant drill-down, bounded to the top tenants per meter, behind the same guard (ADR 0660).
        app.MapWhen(http => http.Request.Path == TenantMetrics.TenantMetricsEndpoint.Path, branch =>
        {
            branch.Use(RefuseOthersAsync);
            branch.Run(TenantMetrics.TenantMetricsEndpoint.WriteAsync);
        });
    }

    /// <summary>Lets loopback through, and anyone else only with "Authorization: Bearer {Metrics:ScrapeToken}"; others get 401 problem details.</summary>
    private static Task RefuseOthersAsync(HttpContext http, Func<Task> next)
    {
        var token = http.RequestServices.GetRequiredService<MetricsOptions>().ScrapeToken;
        if (http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address) || HoldsToken(http, token))
        {
            return next();
        }
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = "Scrape /metrics from loopback or with the bearer token of Metrics:ScrapeToken." },
        }).AsTask();
    }

    private static bool HoldsToken(HttpContext http, string? token)
    {
        const string prefix = "Bearer ";
        var header = http.Request.Headers.Authorization.ToString();
        return !string.IsNullOrEmpty(token) && header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }
}
