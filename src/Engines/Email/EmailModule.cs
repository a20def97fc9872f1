using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Email;

/// <summary>Registers email: the outbox, the tenant notices and the dispatch job.</summary>
internal sealed class EmailModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<EmailOutbox>();
        services.AddSingleton<TenantNotices>();
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<EmailDispatchJob>();
}
