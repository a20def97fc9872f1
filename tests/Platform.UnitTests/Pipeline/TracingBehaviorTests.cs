using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;
using Platform.Models.Errors;

namespace Platform.UnitTests.Pipeline;

/// <summary>Proves ADR 0811: spans are recorded only when something consumes them (an OTLP endpoint, or a listener a test opts in with),
/// and quota refusals are counted either way.</summary>
[NonParallelizable]
public sealed class TracingBehaviorTests
{
    [Test]
    public async Task Without_a_listener_no_span_is_made_and_a_quota_refusal_is_still_counted()
    {
        Assert.That(Telemetry.Commands.HasListeners(), Is.False, "nothing listens to the engines' source in this test");
        using var counted = new RefusalCounter();
        var behavior = new TracingBehavior<string, int>();

        Assert.That(await behavior.Handle("probe", CancellationToken.None, () => Task.FromResult(7)), Is.EqualTo(7));
        Assert.ThrowsAsync<QuotaExceededException>(() => behavior.Handle("probe", CancellationToken.None, async () =>
        {
            await Task.Yield();
            throw new QuotaExceededException("gpu_hours", 10, 10, null);
        }));

        Assert.That(counted.Meters, Is.EqualTo(new[] { "gpu_hours" }));
    }

    [Test]
    public async Task A_listener_that_opts_in_gets_a_span_per_command_with_its_outcome()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        using var counted = new RefusalCounter();
        var behavior = new TracingBehavior<string, int>();

        await behavior.Handle("probe", CancellationToken.None, () => Task.FromResult(1));
        Assert.ThrowsAsync<QuotaExceededException>(() => behavior.Handle("probe", CancellationToken.None,
            () => throw new QuotaExceededException("api_calls", 5, 5, null)));

        Assert.That(stopped.Select(a => (a.OperationName, a.GetTagItem("platform.outcome") as string)),
            Is.EqualTo(new[] { ("String", "ok"), ("String", "quota_exceeded") }));
        Assert.That(counted.Meters, Is.EqualTo(new[] { "api_calls" }));
    }

    [TestCase(null, false)]
    [TestCase("http://127.0.0.1:4317", true)]
    public void A_tracer_provider_is_registered_only_with_an_otlp_endpoint(string? endpoint, bool expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint })
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddPlatformTelemetry(configuration, "platform-test");

        Assert.That(Telemetry.RecordsSpans(configuration), Is.EqualTo(expected));
        Assert.That(services.Any(s => s.ServiceType == typeof(TracerProvider)), Is.EqualTo(expected));
    }

    /// <summary>Collects the meter label of each quota_exceeded measurement of the engines' meter.</summary>
    private sealed class RefusalCounter : IDisposable
    {
        private readonly MeterListener listener = new();

        public RefusalCounter()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.Name && instrument.Name == "quota_exceeded")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "meter")
                    {
                        lock (Meters)
                        {
                            Meters.Add((string)tag.Value!);
                        }
                    }
                }
            });
            listener.Start();
        }

        public List<string> Meters { get; } = [];

        public void Dispose() => listener.Dispose();
    }
}
