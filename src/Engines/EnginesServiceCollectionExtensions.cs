using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Drivers;
using Platform.Engines.ApiKeys;
using Platform.Engines.Caching;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;

namespace Platform.Engines;

/// <summary>Registers MediatR 5.1.0, the engines' handlers and validators (by Scrutor scanning), the pipeline behaviours and the drivers beneath.</summary>
public static class EnginesServiceCollectionExtensions
{
    /// <summary>Holds the snake_case wire name of each member name FluentValidation has asked for (bounded: member names are few).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> WireNames = new(StringComparer.Ordinal);

    private static string WireName(string name) =>
        WireNames.TryGetValue(name, out var wire) ? wire
        : WireNames.Count < 4096 ? WireNames.GetOrAdd(name, n => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(n))
        : System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    /// <summary>Adds the engines and the drivers; every setting comes from the container's configuration, each feature binding its own section in its
    /// module (ADR 0440), so the API and the Worker call it alike.</summary>
    public static IServiceCollection AddEngines(this IServiceCollection services)
    {
        // Validation errors name fields as the wire does (snake_case).
        // The names are converted once per member name and kept: FluentValidation asks for them on every validation (ADR 0812).
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
            WireName(member?.Name ?? expression?.ToString() ?? "");
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member?.Name is { } name ? WireName(name) : null;
        services.AddFeatureOptions<ConnectionStringsOptions>("ConnectionStrings");
        services.AddDrivers(
            provider => provider.GetRequiredService<ConnectionStringsOptions>().Platform!,
            provider => provider.GetRequiredService<ConnectionStringsOptions>().PlatformListener);
        services.TryAddSingleton<IClock, SystemClock>();
        services.AddSingleton<TenantGate>();

        // MediatR 5.1.0 has no AddMediatR: the mediator resolves handlers through ServiceFactory.
        services.AddScoped<ServiceFactory>(provider => provider.GetService!);
        services.AddScoped<IMediator, Mediator>();
        services.Scan(scan => scan
            .FromAssemblyOf<TenantGate>()
            .AddClasses(c => c.AssignableTo(typeof(IRequestHandler<,>)), publicOnly: false)
            .AsImplementedInterfaces()
            .WithTransientLifetime()
            .AddClasses(c => c.AssignableTo(typeof(IValidator<>)), publicOnly: false)
            .AsImplementedInterfaces()
            .WithSingletonLifetime());

        // Registered in order: logging wraps validation, so refused input is logged with its duration too; text PostgreSQL
        // cannot store is refused before any validator or handler sees it (ADR 0180).
        // Outermost: the command's span covers everything below, refusals included (ADR 0584).
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(TracingBehavior<,>));
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(LoggingBehavior<,>));
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(StorableTextBehavior<,>));
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));

        // Each feature registers its own singletons (and behaviours, which thus come after the pipeline's own); none is listed here.
        foreach (var module in FeatureModules.All)
        {
            module.AddServices(services);
        }
        return services;
    }

    /// <summary>Adds what every API instance runs for API keys whatever its job settings: the change listener (invalidation of the key cache and every other notified cache) and the usage flush.</summary>
    public static IServiceCollection AddApiKeyRuntime(this IServiceCollection services)
    {
        services.AddChangeListener();
        services.AddHostedService<ApiKeyUsageFlushJob>();
        return services;
    }

    /// <summary>Adds every feature's background jobs; the API runs them in-process by default and src/Worker runs them as a separate host.</summary>
    public static IServiceCollection AddPlatformJobs(this IServiceCollection services)
    {
        foreach (var module in FeatureModules.All)
        {
            module.AddJobs(services);
        }
        return services;
    }
}
