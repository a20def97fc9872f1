using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Billing;

/// <summary>Registers billing: the lifecycle rules, the tenant sweep, and the lifecycle and monthly close jobs.</summary>
internal sealed class BillingModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<BillingLifecycle>();
        services.AddSingleton<TenantSweep>();
    }

    public void AddJobs(IServiceCollection services)
    {
        services.AddHostedService<BillingLifecycleJob>();
        services.AddHostedService<BillingCloseJob>();
    }
}
