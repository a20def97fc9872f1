using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Platform.Engines;
using Platform.Engines.Hosting;
using Platform.Models;

namespace Platform.Tests.Testing;

/// <summary>Builds a separate engines container on the test database, with its own settings and clock, for driving jobs and commands the shared API host does not expose.</summary>
/// <remarks>Settings go through the real binding: configuration keys as an operator would set them (<c>new() { ["Billing:DunningGraceDays"] = "2" }</c>),
/// bound by each feature's module and validated when the container is built, as a host validates them when it starts.</remarks>
public static class TestEngines
{
    public static ServiceProvider Build(Dictionary<string, string?>? settings = null, IClock? clock = null, string? environment = null) =>
        BuildOn(DatabaseFixture.AppConnectionString, settings, clock, environment);

    /// <summary>Builds the engines on another connection string to the test database (a pool of one, other preparation settings).</summary>
    public static ServiceProvider BuildOn(string connectionString, Dictionary<string, string?>? settings = null, IClock? clock = null, string? environment = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Configuration(connectionString, settings));
        if (environment is not null)
        {
            // The key ring's validation asks the host's environment whether DataProtection:KeyEncryptionKey is required.
            services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = environment, ApplicationName = "Platform.Tests" });
        }
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        services.AddEngines();
        var provider = services.BuildServiceProvider();
        try
        {
            provider.ValidateOptionsNow();
        }
        catch
        {
            provider.Dispose();
            throw;
        }
        return provider;
    }

    /// <summary>Builds the configuration of an engines container: the test database and the run's key encryption key (every host of a run shares the
    /// key ring in PostgreSQL, ADR 0196), then the test's own settings over them.</summary>
    public static IConfiguration Configuration(string connectionString, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Platform"] = connectionString,
            ["DataProtection:KeyEncryptionKey"] = DatabaseFixture.KeyEncryptionKey,
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}

/// <summary>Is a clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : IClock
{
    public DateTimeOffset UtcNow { get; set; } = start;

    public void Advance(TimeSpan by) => UtcNow += by;
}

/// <summary>Runs SQL as the schema owner, optionally inside one tenant's row-level-security scope.</summary>
public static class OwnerSql
{
    public static Task<T?> ScalarAsync<T>(string sql, Guid? tenantId = null, params (string Name, object Value)[] parameters) =>
        ScalarAsync<T>(sql, tenantId, userId: null, parameters);

    /// <summary>Runs the SQL with app.tenant_id and app.user_id set (either may be null) and returns the first column of the first row.</summary>
    public static async Task<T?> ScalarAsync<T>(string sql, Guid? tenantId, Guid? userId, params (string Name, object Value)[] parameters)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId, userId);
        var result = await scope.ScalarAsync(sql, parameters);
        await scope.CommitAsync();
        return result is null or DBNull ? default : (T)result;
    }

    public static Task<long> CountAsync(string sql, Guid? tenantId = null, params (string Name, object Value)[] parameters) =>
        ScalarAsync<long>(sql, tenantId, parameters);
}
