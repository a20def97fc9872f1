using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Schema;
using Platform.Drivers.Sessions;

namespace Platform.Drivers;

/// <summary>Registers the drivers, the session factory and the service role's data source.</summary>
public static class DriversServiceCollectionExtensions
{
    /// <summary>Adds every driver (found by scanning), the session factory over the service-role connection string, the migrator, and the channel
    /// listener (on its own connection string when one is given, ADR 0161); both strings are read from the container when first needed.</summary>
    public static IServiceCollection AddDrivers(
        this IServiceCollection services, Func<IServiceProvider, string> serviceConnectionString, Func<IServiceProvider, string?> listenerConnectionString)
    {
        DriverDefaults.Apply();
        services.AddSingleton(provider => DataSource(serviceConnectionString(provider)));
        services.AddSingleton<IDbSessionFactory, NpgsqlDbSessionFactory>();
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton(provider => listenerConnectionString(provider) is { Length: > 0 } listener && !string.IsNullOrWhiteSpace(listener)
            ? new ListenerDataSource(NpgsqlDataSource.Create(listener))
            : new ListenerDataSource(null));
        services.AddSingleton<IChannelListener, ChannelListener>();
        services.Scan(scan => scan
            .FromAssemblyOf<NpgsqlDbSessionFactory>()
            .AddClasses(c => c.Where(t => t.Name.EndsWith("Driver", StringComparison.Ordinal)), publicOnly: false)
            .AsImplementedInterfaces()
            .WithSingletonLifetime());
        return services;
    }

    /// <summary>Builds the service role's data source; unless the connection string says otherwise, the hot statements are prepared automatically (ADR 0160: behind PgBouncer before 1.21, set "Max Auto Prepare=0").</summary>
    private static NpgsqlDataSource DataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (!connectionString.Replace(" ", "", StringComparison.Ordinal).Contains("autoprepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }
        return builder.Build();
    }
}
