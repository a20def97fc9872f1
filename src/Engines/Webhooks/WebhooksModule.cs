using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Drivers.Webhooks;
using Platform.Engines.Hosting;

namespace Platform.Engines.Webhooks;

/// <summary>Registers outbound webhooks: their settings (section "Webhooks"), the event emitter every feature writes its events through, the delivery
/// client (its settings and the resolver its SSRF guard asks; a test may register its own resolver first), the dispatch job and the listener that
/// wakes it when events are committed.</summary>
internal sealed class WebhooksModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<WebhooksOptions>("Webhooks")
            .Validate(o => o.HasValidSchedule, "Webhooks:RetrySchedule must be 1-20 comma-separated whole numbers of seconds, each 0-604800.");
        services.AddSingleton<WebhookEvents>();
        services.AddSingleton<WebhookSecretBox>();
        services.AddSingleton<WebhookAttempter>();
        services.AddSingleton<WebhookFinisher>();
        services.AddSingleton<WebhookWakeup>();
        services.TryAddSingleton<IWebhookResolver, DnsWebhookResolver>();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<WebhooksOptions>();
            return new WebhookClientSettings(options.TimeoutSeconds, options.AllowLoopback, options.MaxInFlightPerEndpoint, options.MaxConnectionsPerHost);
        });
    }

    public void AddJobs(IServiceCollection services)
    {
        services.AddHostedService<WebhookWakeupListenerJob>();
        services.AddHostedService<WebhookDispatchJob>();
    }
}
