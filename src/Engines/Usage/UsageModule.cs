using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Usage;

/// <summary>Registers usage: its settings (section "Usage"), alerts, the summary cache with its eviction behaviour, and the api_calls meter fed by the API key usage flush.</summary>
internal sealed class UsageModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<UsageOptions>("Usage");
        services.AddSingleton<UsageAlerts>();
        services.AddSingleton<UsageSummaryCache>();
        services.AddSingleton<ApiKeys.IApiCallsSink, ApiCallsMeter>();
        // After the pipeline's own behaviours (AddEngines registers modules last): evicts after validation and logging wrapped the command.
        services.AddTransient(typeof(MediatR.IPipelineBehavior<,>), typeof(UsageSummaryEviction<,>));
    }
}
