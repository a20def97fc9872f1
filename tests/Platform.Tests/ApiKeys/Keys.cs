using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Models;

namespace Platform.Tests.ApiKeys;

/// <summary>Creates keys over HTTP, reads key rows as the schema owner, and builds extra API hosts for the tests of keys.</summary>
internal static class Keys
{
    public static async Task<CreatedKey> CreateAsync(string adminToken, Guid tenantId, string[]? permissions = null, int? rateLimitRpm = null, DateTimeOffset? expiresAt = null)
    {
        using var response = await TestApi.Client(adminToken).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new
        {
            name = "key " + Guid.NewGuid().ToString("N")[..6],
            permissions = permissions ?? ["runs:read", "usage:read"],
            rate_limit_rpm = rateLimitRpm,
            expires_at = expiresAt,
        });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var body = await TestApi.ReadAsync(response);
        return new CreatedKey(Guid.Parse((string)body["id"]!), (string)body["key"]!, body);
    }

    public static HttpClient Client(this WebApplicationFactory<Program> factory, string token)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Starts a second (or third) in-process API host on the same database, optionally with other services.</summary>
    public static WebApplicationFactory<Program> NewHost(Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureTestServices(s => services?.Invoke(s)));

    /// <summary>Waits until the host's key change listener is connected, so that its cache is in use.</summary>
    public static async Task WaitUntilListeningAsync(IServiceProvider services)
    {
        var cache = services.GetRequiredService<Platform.Engines.ApiKeys.ApiKeyCache>();
        for (var i = 0; i < 100 && !cache.IsServing; i++)
        {
            await Task.Delay(50);
        }
        Assert.That(cache.IsServing, Is.True, "The key change listener did not connect.");
    }

    /// <summary>Runs a query as the schema owner inside the tenant's row-level-security scope and returns the first row's columns.</summary>
    public static async Task<Dictionary<string, object?>?> ReadRowAsync(Guid tenantId, string sql, params (string Name, object Value)[] parameters)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await using var command = scope.Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }
        var row = new Dictionary<string, object?>();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }
        return row;
    }
}

/// <summary>Is a key created by a test: its id, its secret and the creation answer.</summary>
internal sealed record CreatedKey(Guid Id, string Secret, JsonNode Body);

/// <summary>Is a clock that stands still unless a test moves it.</summary>
internal sealed class StoppedClock(DateTimeOffset now) : IClock
{
    public DateTimeOffset UtcNow { get; set; } = now;
}
