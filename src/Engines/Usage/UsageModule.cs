using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Usage;

/// <summary>Registers usage: its settings (section "Usage"), alerts, the summary cache with its eviction behaviour, the api_calls meter fed by the API key usage flush, and the purge of old quota reservations.</summary>
internal sealed class UsageModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<UsageOptions>("Usage")
            .Validate(o => o.ReservationDefaultSeconds <= o.ReservationMaxSeconds, "Usage:ReservationDefaultSeconds must be at most Usage:ReservationMaxSeconds.");
        services.AddSingleton<UsageAlerts>();
        services.AddSingleton<UsageSummaryCache>();
        services.AddSingleton<QuotaFiguresCache>();
        services.AddSingleton<ApiKeys.IApiCallsSink, ApiCallsMeter>();
        // After the pipeline's own behaviours (AddEngines registers modules last): evicts after validation and logging wrapped the command.
        services.AddTransient(typeof(MediatR.IPipelineBehavior<,>), typeof(UsageSummaryEviction<,>));
    }

    public void AddJobs(IServiceCollection services) => services.AddHostedService<UsageReservationPurgeJob>();
}
