using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.TenantMetrics;

/// <summary>Registers seed 003's series (ADR 0660): their settings (section "TenantMetrics"), the per-plan gauges and counters of /metrics, and the
/// cache of the per-tenant list of /metrics/tenants.</summary>
internal sealed class TenantMetricsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<TenantMetricsOptions>("TenantMetrics");
        services.AddSingleton<TopTenantQuotaUsageCache>();
        services.AddHostedService<TenantUsageGauges>();
    }
}
