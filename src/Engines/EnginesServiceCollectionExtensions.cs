using FluentValidation;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Drivers;
using Platform.Engines.ApiKeys;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;

namespace Platform.Engines;

/// <summary>Registers MediatR 5.1.0, the engines' handlers and validators (by Scrutor scanning), the pipeline behaviours and the drivers beneath.</summary>
public static class EnginesServiceCollectionExtensions
{
    /// <summary>Keeps the Data Protection key ring in PostgreSQL, its key material encrypted with DataProtection:KeyEncryptionKey (ADR 0196).</summary>
    private static void AddKeyRingInPostgres(IServiceCollection services, EngineOptions options)
    {
        var keks = new DataProtection.KeyEncryptionKeys(options.DataProtectionKeyEncryptionKey, options.DataProtectionOldKeyEncryptionKeys);
        if (keks.Current is null && options.RequireKeyEncryptionKey)
        {
            throw new InvalidOperationException(
                "DataProtection:KeyEncryptionKey is not set: give it base64 of 32 random bytes (openssl rand -base64 32); ./platform run generates one in its data folder.");
        }
        services.AddSingleton(keks);
        services.AddSingleton<DataProtection.PostgresXmlRepository>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = provider.GetRequiredService<DataProtection.PostgresXmlRepository>();
            if (keks.Current is not null)
            {
                o.XmlEncryptor = new DataProtection.AesGcmXmlEncryptor(keks);
            }
        }));
    }

    /// <summary>Adds the engines and the drivers on the service role's connection string.</summary>
    public static IServiceCollection AddEngines(this IServiceCollection services, string serviceConnectionString, Action<EngineOptions>? configure = null)
    {
        var options = new EngineOptions();
        configure?.Invoke(options);
        if (options.BcryptWorkFactor < 12)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), "The bcrypt work factor must be at least 12.");
        }
        if (options.IdempotencyRetention < TimeSpan.FromHours(24) || options.IdempotencyLease < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(configure), "Idempotency keys are kept at least 24 hours and leased at least one second.");
        }
        services.AddSingleton(options);
        services.AddSingleton(options.Email);
        // Validation errors name fields as the wire does (snake_case).
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
            System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(member?.Name ?? expression?.ToString() ?? "");
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member?.Name is { } name
            ? System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name)
            : null;
        services.AddDrivers(serviceConnectionString, options.ListenerConnectionString);
        services.TryAddSingleton<IClock, SystemClock>();
        services.AddSingleton<TenantGate>();
        services.AddSingleton<Throttles.AuthThrottle>();
        services.AddSingleton<Idempotency.IdempotencyRecords>();
        services.AddDataProtection().SetApplicationName("platform");
        AddKeyRingInPostgres(services, options);
        services.AddSingleton(new Drivers.Stripe.StripeSettings(options.StripeSecretKey, options.StripeApiBase, options.StripePriceIds, options.StripeWebhookSecret));

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

    /// <summary>Adds what every API instance runs for API keys whatever its job settings: the key change listener (cache invalidation) and the usage flush.</summary>
    public static IServiceCollection AddApiKeyRuntime(this IServiceCollection services)
    {
        services.AddHostedService<ApiKeyChangeListenerJob>();
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
