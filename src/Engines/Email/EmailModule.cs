using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Email;
using Platform.Engines.Hosting;

namespace Platform.Engines.Email;

/// <summary>Registers email: its settings (section "Email"), the outbox, the tenant notices and the dispatch job.</summary>
internal sealed class EmailModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        // The mail driver beneath takes the bound record (section "Email", with Email:Smtp:* nested).
        services.AddFeatureOptions<EmailOptions>("Email");
        services.AddSingleton<EmailOutbox>();
        services.AddSingleton<TenantNotices>();
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<EmailDispatchJob>();
}
