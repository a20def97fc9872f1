using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Platform.Models;

namespace Platform.Tests.Runs;

/// <summary>Is a clock the test moves by hand.</summary>
public sealed class FakeClock(DateTimeOffset start) : IClock
{
    public DateTimeOffset UtcNow { get; set; } = start;
}

/// <summary>Hosts the real API with the clock replaced, so that a test can cross a UTC midnight or a month end.</summary>
public sealed class ClockedApi : WebApplicationFactory<Program>
{
    public FakeClock Clock { get; } = new(new DateTimeOffset(2031, 3, 31, 23, 58, 0, TimeSpan.Zero));

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IClock>();
            services.AddSingleton<IClock>(Clock);
        });

    public HttpClient Client(string token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}

/// <summary>Offers the calls the run and usage tests make again and again, over HTTP and directly on the database (as the owner, inside the tenant's scope).</summary>
public static class Runs
{
    /// <summary>Sets tenant columns directly (the plan-change command belongs to another issue), e.g. "max_concurrent_runs = 5".</summary>
    public static Task SetTenantAsync(Guid tenantId, string assignments) =>
        ExecuteAsync(tenantId, $"UPDATE tenants SET {assignments} WHERE id = @t");

    public static async Task ExecuteAsync(Guid tenantId, string sql)
    {
        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Scope(connection, transaction, tenantId);
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            command.Parameters.AddWithValue("t", tenantId);
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    public static async Task<long> ScalarAsync(Guid tenantId, string sql)
    {
        await using var connection = new NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Scope(connection, transaction, tenantId);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("t", tenantId);
        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<JsonNode> CreateRunAsync(HttpClient client, Guid tenantId, string worker = "summarizer", Guid? parent = null)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = worker, task = "summarise", input = new { text = "hello" }, parent_run_id = parent });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }

    public static async Task<HttpResponseMessage> CompleteAsync(HttpClient client, Guid tenantId, Guid runId, long tokens = 100, bool success = true) =>
        await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs/{runId}/complete",
            new { success, output = new { summary = "ok" }, total_tokens = tokens, latency_ms = 42, stages = new[] { new { name = "draft", ms = 40 } }, recoveries = 0, policy_violations = Array.Empty<string>() });

    /// <summary>Fires the same run creation n times at once and returns the responses' status codes and bodies.</summary>
    public static async Task<(HttpStatusCode Status, JsonNode Body, HttpResponseMessage Response)[]> CreateManyAsync(HttpClient client, Guid tenantId, int n, string worker = "summarizer")
    {
        var tasks = Enumerable.Range(0, n).Select(async i =>
        {
            var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/runs", new { worker_id = worker, task = $"task {i}" });
            var body = await TestApi.ReadAsync(response);
            return (response.StatusCode, body, response);
        }).ToArray();
        return await Task.WhenAll(tasks);
    }

    private static async Task Scope(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId)
    {
        await using var scope = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, true)", connection, transaction);
        scope.Parameters.AddWithValue("t", tenantId.ToString());
        await scope.ExecuteNonQueryAsync();
    }
}
