using System.Diagnostics;
using System.Diagnostics.Metrics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Engines.Hosting;

namespace Platform.Engines.Health;

/// <summary>Publishes database_up (1 when the database answered a trivial query within 2 seconds, else 0) on the Platform.Jobs meter, read at most
/// once per Metrics:GaugeCacheMilliseconds; the "database down" alert of ops/prometheus/alerts.yml reads it (ADR 0660).</summary>
/// <remarks>Unlike the job lag gauges, a failed reading is a reading: it gives 0, never the last value.</remarks>
internal sealed class DatabaseUpGauge : IHostedService
{
    private readonly IServiceScopeFactory scopes;
    private readonly GaugeOptions options;
    private readonly Lock gate = new();
    private int last;
    private long readAt;
    private bool read;

    public DatabaseUpGauge(IServiceScopeFactory scopes, GaugeOptions options, IMeterFactory? meters = null)
    {
        this.scopes = scopes;
        this.options = options;
        meters?.Create(Telemetry.JobsMeter).CreateObservableGauge("database_up", Read,
            description: "1 when the database answered a trivial query within 2 seconds at the last reading, else 0.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private int Read()
    {
        lock (gate)
        {
            if (read && Stopwatch.GetElapsedTime(readAt).TotalMilliseconds < options.GaugeCacheMilliseconds)
            {
                return last;
            }
            try
            {
                using var scope = scopes.CreateScope();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CheckDatabase(), timeout.Token).GetAwaiter().GetResult();
                last = 1;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = 0;
            }
            read = true;
            readAt = Stopwatch.GetTimestamp();
            return last;
        }
    }
}
