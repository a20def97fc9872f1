using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Engines.Hosting;
using Platform.Models.Billing;
using Platform.Models.TenantMetrics;
using Platform.Models.Usage;

namespace Platform.Engines.TenantMetrics;

/// <summary>Publishes seed 003's series per plan, never per tenant, so that /metrics stays a few dozen series at 100,000 tenants (ADR 0660):
/// tenant_quota_usage_percent_max{plan,meter}, tenants_at_quota_percent{plan,meter,at_least}, and the all-time counters gpu_hours_total,
/// api_calls_cost_usd_total, storage_cost_usd_total and tenant_costs_usd_total; read from the database at most once per TenantMetrics:CacheMilliseconds.</summary>
/// <remarks>A hosted service only so that the host creates it (and its instruments) at start, as the job lag gauges (ADR 0585). A failed reading keeps the last one.</remarks>
internal sealed class TenantUsageGauges : IHostedService
{
    private static readonly int[] Thresholds = [80, 90, 100];

    private readonly CachedReading<TenantUsageFigures> reading;

    public TenantUsageGauges(IServiceScopeFactory scopes, TenantMetricsOptions options, ILogger<TenantUsageGauges> logger, IMeterFactory? meters = null)
    {
        // One scrape reads the database for all six instruments, then the cache serves them.
        reading = new(scopes, () => new ReadTenantUsageFigures(), () => options.CacheMilliseconds, TimeSpan.FromSeconds(5), logger, "The tenant usage series");
        if (meters is null)
        {
            return;
        }
        var meter = meters.Create(Telemetry.TenantsMeter);
        meter.CreateObservableGauge("tenant_quota_usage_percent_max", MaxPercent,
            description: "Highest share of a monthly quota used by any tenant of the plan this month, in percent; per tenant: /metrics/tenants.");
        meter.CreateObservableGauge("tenants_at_quota_percent", AtLeast,
            description: "Tenants of the plan that used at least the given percentage (at_least) of a monthly quota this month.");
        meter.CreateObservableCounter("gpu_hours", () => Total(Meters.GpuHours, 1m),
            description: "GPU hours ever metered, across tenants.");
        meter.CreateObservableCounter("api_calls_cost_usd", () => Total(Meters.ApiCalls, UsagePricing.ApiCallCents / 100m),
            description: "API calls ever metered, in US dollars at the list price per call, across tenants.");
        meter.CreateObservableCounter("storage_cost_usd", () => Total(Meters.StorageGb, UsagePricing.StorageGbMonthCents / 100m),
            description: "Storage ever metered (GB-months), in US dollars at the list price, across tenants.");
        meter.CreateObservableCounter("tenant_costs_usd", TotalCost,
            description: "API calls, storage and GPU hours ever metered, in US dollars at the list prices, across tenants.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<double>> MaxPercent() =>
        Read() is { } figures
            ? figures.ByPlan.Select(f => new Measurement<double>((double)f.MaxPercent, new("plan", f.Plan), new("meter", f.Meter)))
            : [];

    private IEnumerable<Measurement<long>> AtLeast() =>
        Read() is { } figures
            ? figures.ByPlan.SelectMany(f => Thresholds.Select(t => new Measurement<long>(
                t switch { 80 => f.AtLeast80, 90 => f.AtLeast90, _ => f.AtLeast100 },
                new("plan", f.Plan), new("meter", f.Meter), new("at_least", t.ToString(System.Globalization.CultureInfo.InvariantCulture)))))
            : [];

    private IEnumerable<Measurement<double>> Total(string meter, decimal dollarsPerUnit) =>
        Read() is { } figures ? [new Measurement<double>((double)(TotalOf(figures, meter) * dollarsPerUnit))] : [];

    private IEnumerable<Measurement<double>> TotalCost() =>
        Read() is { } figures
            ? [new Measurement<double>((double)(TotalOf(figures, Meters.ApiCalls) * UsagePricing.ApiCallCents / 100m
                + TotalOf(figures, Meters.StorageGb) * UsagePricing.StorageGbMonthCents / 100m
                + TotalOf(figures, Meters.GpuHours) * UsagePricing.GpuHourCents / 100m))]
            : [];

    private static decimal TotalOf(TenantUsageFigures figures, string meter) => figures.Totals.FirstOrDefault(t => t.Meter == meter)?.Total ?? 0m;

    private TenantUsageFigures? Read() => reading.Read();
}
