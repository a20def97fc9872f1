using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Notifications;
using Platform.Drivers.Schema;
using Platform.Drivers.Sessions;

namespace Platform.Drivers;

/// <summary>Registers the drivers, the session factory and the service role's data source.</summary>
public static class DriversServiceCollectionExtensions
{
    /// <summary>Adds every driver (found by scanning), the session factory over the given service-role connection string, and the migrator.</summary>
    public static IServiceCollection AddDrivers(this IServiceCollection services, string serviceConnectionString)
    {
        DriverDefaults.Apply();
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(serviceConnectionString).Build());
        services.AddSingleton<IDbSessionFactory, NpgsqlDbSessionFactory>();
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<IChannelListener, ChannelListener>();
        services.Scan(scan => scan
            .FromAssemblyOf<NpgsqlDbSessionFactory>()
            .AddClasses(c => c.Where(t => t.Name.EndsWith("Driver", StringComparison.Ordinal)), publicOnly: false)
            .AsImplementedInterfaces()
            .WithSingletonLifetime());
        return services;
    }
}
