using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    /// <summary>Runs a query as the schema owner inside the tenant's scope, with @t bound to the tenant and the other parameters given, and returns its first column as a number.</summary>
    public static async Task<long> ScalarAsync(Guid tenantId, string sql, params (string Name, object Value)[] parameters)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        var value = await scope.ScalarAsync(sql, [("t", tenantId), .. parameters]);
        await scope.CommitAsync();
        return Convert.ToInt64(value ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
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
}
