using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Drivers.Schema;
using Platform.Drivers.Sessions;

namespace Platform.Drivers;

/// <summary>Registers the drivers, the session factory and the service role's data source.</summary>
public static class DriversServiceCollectionExtensions
{
    /// <summary>Adds every driver (found by scanning), the session factory over the given service-role connection string, the migrator, and the channel listener (on its own connection string when one is given, ADR 0161).</summary>
    public static IServiceCollection AddDrivers(this IServiceCollection services, string serviceConnectionString, string? listenerConnectionString = null)
    {
        DriverDefaults.Apply();
        services.AddSingleton(_ => DataSource(serviceConnectionString));
        services.AddSingleton<IDbSessionFactory, NpgsqlDbSessionFactory>();
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton(_ => new ListenerDataSource(
            string.IsNullOrWhiteSpace(listenerConnectionString) ? null : NpgsqlDataSource.Create(listenerConnectionString)));
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
