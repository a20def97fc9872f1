using FluentValidation;
using Microsoft.AspNetCore.DataProtection;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Drivers;
using Platform.Engines.Jobs;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Users;
using Platform.Models;

namespace Platform.Engines;

/// <summary>Registers MediatR 5.1.0, the engines' handlers and validators (by Scrutor scanning), the pipeline behaviours and the drivers beneath.</summary>
public static class EnginesServiceCollectionExtensions
{
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
        services.AddSingleton<IPasswordHasher, BcryptPasswordHasher>();
        services.AddSingleton<TenantGate>();
        services.AddSingleton<Workers.WorkerRegistry>();
        services.AddSingleton<Audit.AuditTrail>();
        services.AddSingleton<Email.EmailOutbox>();
        services.AddSingleton<Email.TenantNotices>();
        services.AddSingleton<Billing.BillingLifecycle>();
        services.AddSingleton<Billing.TenantSweep>();
        services.AddSingleton<Usage.UsageAlerts>();
        services.AddSingleton<Usage.UsageSummaryCache>();
        services.AddSingleton<Tenants.TenantSuspension>();
        services.AddSingleton<Operators.TotpSecrets>();
        services.AddSingleton<Idempotency.IdempotencyRecords>();
        services.AddSingleton<Admin.FounderActionLog>();
        services.AddSingleton<Admin.OperatorTicketScopes>();
        var dataProtection = services.AddDataProtection().SetApplicationName("platform");
        if (!string.IsNullOrEmpty(options.DataProtectionKeysFolder))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.DataProtectionKeysFolder));
        }
        services.AddSingleton<ApiKeys.ApiKeyCache>();
        services.AddSingleton<ApiKeys.ApiKeyFreezer>();
        services.AddSingleton<Plans.QuotaOverrideChanges>();
        services.AddSingleton<ApiKeys.IApiKeyUsageRecorder, ApiKeys.ApiKeyUsageRecorder>();
        services.AddSingleton(new Drivers.Stripe.StripeSettings(options.StripeSecretKey, options.StripeApiBase, options.StripePriceIds, options.StripeWebhookSecret));
        services.AddSingleton<ApiKeys.IApiCallsSink, Usage.ApiCallsMeter>();

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
            .WithSingletonLifetime()
            .AddClasses(c => c.AssignableTo<Admin.IFounderActionType>(), publicOnly: false)
            .As<Admin.IFounderActionType>()
            .WithSingletonLifetime());

        // Registered in order: logging wraps validation, so refused input is logged with its duration too.
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(LoggingBehavior<,>));
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));
        services.AddTransient(typeof(IPipelineBehavior<,>), typeof(UsageSummaryEviction<,>));
        return services;
    }

    /// <summary>Adds what every API instance runs for API keys whatever its job settings: the key change listener (cache invalidation) and the usage flush.</summary>
    public static IServiceCollection AddApiKeyRuntime(this IServiceCollection services)
    {
        services.AddHostedService<ApiKeyChangeListenerJob>();
        services.AddHostedService<ApiKeyUsageFlushJob>();
        return services;
    }

    /// <summary>Adds the background jobs; the API runs them in-process by default and src/Worker runs them as a separate host.</summary>
    public static IServiceCollection AddPlatformJobs(this IServiceCollection services)
    {
        services.AddHostedService<HeartbeatJob>();
        services.AddHostedService<EmailDispatchJob>();
        services.AddHostedService<RetentionJob>();
        services.AddHostedService<RunTimeoutJob>();
        services.AddHostedService<BillingLifecycleJob>();
        services.AddHostedService<BillingCloseJob>();
        return services;
    }
}
