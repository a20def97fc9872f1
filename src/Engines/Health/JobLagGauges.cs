using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;
using Platform.Models.Health;

namespace Platform.Engines.Health;

/// <summary>Holds the settings of the gauges that read the database (section "Metrics").</summary>
public sealed class GaugeOptions
{
    /// <summary>Gets or sets how long a reading of the database serves the gauges, in milliseconds (Metrics:GaugeCacheMilliseconds); 0 reads at every collection.</summary>
    [Range(0, 600_000)]
    public int GaugeCacheMilliseconds { get; set; } = 5000;
}

/// <summary>Publishes the jobs' lag as observable gauges of the Platform.Jobs meter: job_outbox_pending, job_webhook_pending and
/// job_outbox_oldest_due_seconds, read from the database at most once per Metrics:GaugeCacheMilliseconds, never per request (ADR 0585).</summary>
/// <remarks>A hosted service only so that the host creates it (and its instruments) at start; it runs nothing. A failed reading keeps the last one.</remarks>
internal sealed class JobLagGauges : IHostedService
{
    private readonly CachedReading<JobLagSnapshot> reading;

    public JobLagGauges(IServiceScopeFactory scopes, GaugeOptions options, ILogger<JobLagGauges> logger, IMeterFactory? meters = null)
    {
        // A scrape waits for at most one reading every GaugeCacheMilliseconds.
        reading = new(scopes, () => new ReadJobLag(), () => options.GaugeCacheMilliseconds, TimeSpan.FromSeconds(2), logger, "The job lag gauges");
        // A host built without metrics (a bare job host, as some tests build) has no /metrics to feed: no gauges.
        if (meters is null)
        {
            return;
        }
        // A meter of the host's factory: disposed with the host, so a stopped host's gauges stop being collected.
        var meter = meters.Create(Telemetry.JobsMeter);
        meter.CreateObservableGauge("job_outbox_pending", () => Measure(s => s.OutboxPending),
            description: "Pending outbox messages (emails and webhook deliveries), across tenants.");
        meter.CreateObservableGauge("job_webhook_pending", () => Measure(s => s.WebhookPending),
            description: "Pending webhook deliveries, across tenants.");
        meter.CreateObservableGauge("job_outbox_oldest_due_seconds", () => Measure(s => s.OldestDueSeconds), unit: "s",
            description: "Age of the oldest due and unsent outbox message; 0 when none is due.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<double>> Measure(Func<JobLagSnapshot, double> value) =>
        Read() is { } snapshot ? [new Measurement<double>(value(snapshot))] : [];

    private JobLagSnapshot? Read() => reading.Read();
}
