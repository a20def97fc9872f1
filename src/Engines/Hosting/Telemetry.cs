using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform.Engines.Hosting;

/// <summary>Composes OpenTelemetry for the API and the Worker: traces of the engines' commands, HttpClient and Npgsql, the engines' own metrics
/// with the runtime's and Npgsql's, and OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0584).</summary>
public static class Telemetry
{
    /// <summary>Is the name of the engines' ActivitySource (a span per MediatR command) and of their Meter.</summary>
    public const string Name = "Platform.Engines";

    /// <summary>Is the name of the meter of the gauges that read the database (job lag).</summary>
    public const string JobsMeter = "Platform.Jobs";

    /// <summary>Is the name of the meter of seed 003's per-plan series (ADR 0660).</summary>
    public const string TenantsMeter = "Platform.Tenants";

    /// <summary>Is the source of the span around each MediatR command.</summary>
    public static readonly ActivitySource Commands = new(Name);

    /// <summary>Is the engines' meter.</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>Counts refusals by a quota, labelled with the quota's name (exported as quota_exceeded_total{meter}).</summary>
    public static readonly Counter<long> QuotaExceeded = Meter.CreateCounter<long>("quota_exceeded", description: "Requests refused by a quota, by quota.");

    /// <summary>Times each run admission (POST /runs: the CreateRun command, commit included), labelled with its outcome ("admitted", or the
    /// refusal's code); exported as run_admission_duration_seconds. Buckets from 1 ms to 10 s, so that the 50 ms and 250 ms goals of the
    /// benchmarks fall on a bucket boundary.</summary>
    public static readonly Histogram<double> RunAdmissionDuration = Meter.CreateHistogram<double>(
        "run_admission_duration", unit: "s", description: "Run admissions (CreateRun, commit included), by outcome.", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Counts usage events taken in by committed batches, labelled "accepted" (new) or "duplicate" (an idempotency key seen before);
    /// exported as usage_events_ingested_total. Its rate is the ingestion rate.</summary>
    public static readonly Counter<long> UsageEventsIngested = Meter.CreateCounter<long>("usage_events_ingested", description: "Usage events in committed batches, by outcome (accepted, duplicate).");

    /// <summary>Tells whether spans are recorded: only when they are exported (OTEL_EXPORTER_OTLP_ENDPOINT is set, ADR 0811).</summary>
    public static bool RecordsSpans(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Registers OpenTelemetry with the service name; the host adds its own instrumentation (ASP.NET Core, the Prometheus exporter) through the callbacks.</summary>
    public static IServiceCollection AddPlatformTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m =>
            {
                m.AddMeter(Name, JobsMeter, TenantsMeter, "Npgsql").AddRuntimeInstrumentation().AddHttpClientInstrumentation();
                metrics?.Invoke(m);
            });
        if (RecordsSpans(configuration))
        {
            // Spans are recorded only when something consumes them: without an exporter a tracer provider would still start, sample and tag
            // an activity per request and per command for nobody (ADR 0811). Trace ids in logs and problem details do not need it: ASP.NET
            // Core's hosting starts the request's activity for logging either way.
            telemetry.WithTracing(t =>
            {
                t.AddSource(Name).AddHttpClientInstrumentation().AddNpgsql();
                tracing?.Invoke(t);
            });
            telemetry.UseOtlpExporter();
        }
        return services;
    }
}
