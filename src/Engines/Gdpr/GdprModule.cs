using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Gdpr;

/// <summary>Registers GDPR and retention: the retention settings (section "Retention") and the retention job (purge of deleted tenants, expired rows,
/// throttle windows and idempotency keys).</summary>
internal sealed class GdprModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddFeatureOptions<RetentionOptions>("Retention");

    public void AddJobs(IServiceCollection services) => services.AddHostedService<RetentionJob>();
}
