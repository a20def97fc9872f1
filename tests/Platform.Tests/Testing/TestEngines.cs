using Microsoft.Extensions.DependencyInjection;
using Platform.Engines;
using Platform.Models;

namespace Platform.Tests.Testing;

/// <summary>Builds a separate engines container on the test database, with its own options and clock, for driving jobs and commands the shared API host does not expose.</summary>
public static class TestEngines
{
    public static ServiceProvider Build(Action<EngineOptions>? configure = null, IClock? clock = null) =>
        BuildOn(DatabaseFixture.AppConnectionString, configure, clock);

    /// <summary>Builds the engines on another connection string to the test database (a pool of one, other preparation settings).</summary>
    public static ServiceProvider BuildOn(string connectionString, Action<EngineOptions>? configure = null, IClock? clock = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        services.AddEngines(connectionString, o =>
        {
            // Every host of a run shares the key ring in PostgreSQL, so it needs the run's key encryption key (ADR 0196).
            o.DataProtectionKeyEncryptionKey = DatabaseFixture.KeyEncryptionKey;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
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
