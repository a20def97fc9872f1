using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Webhooks;

/// <summary>Registers outbound webhooks: their settings (section "Webhooks") and the event emitter every feature writes its events through.</summary>
internal sealed class WebhooksModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<WebhooksOptions>("Webhooks")
            .Validate(o => o.HasValidSchedule, "Webhooks:RetrySchedule must be 1-20 comma-separated whole numbers of seconds, each 0-604800.");
        services.AddSingleton<WebhookEvents>();
    }

    public void AddJobs(IServiceCollection services)
    {
    }
}
