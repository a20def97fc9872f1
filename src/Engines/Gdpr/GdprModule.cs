using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Gdpr;

/// <summary>Registers GDPR and retention: the retention job (purge of deleted tenants, expired rows, throttle windows and idempotency keys).</summary>
internal sealed class GdprModule : IFeatureModule
{
    public void AddJobs(IServiceCollection services) => services.AddHostedService<RetentionJob>();
}
