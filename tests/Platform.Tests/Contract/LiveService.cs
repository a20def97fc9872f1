using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Platform.Api.Hosting;

namespace Platform.Tests.Contract;

/// <summary>Starts the real service on a loopback port (Kestrel, production settings, the test database), as a generated client meets it.</summary>
public sealed class LiveService : IAsyncDisposable
{
    private readonly WebApplication app;

    private LiveService(WebApplication app, Uri baseAddress)
    {
        this.app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Gets the service's address, such as http://127.0.0.1:41234 (no trailing slash).</summary>
    public Uri BaseAddress { get; }

    public string Url => BaseAddress.ToString().TrimEnd('/');

    public static async Task<LiveService> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(Program).Assembly.GetName().Name });
        // No start-up warm-up (ADR 0815, 0820): its rolled-back sandboxes would hold row locks on the test database that the next test's
        // reset waits for; WarmUpReadinessTests prove the warm-up.
        builder.Configuration["Platform:WarmUp"] = "false";
        builder.AddPlatformApi();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UsePlatformApi();
        await app.StartAsync();
        return new LiveService(app, new Uri(app.Urls.First()));
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>Reads the served OpenAPI document, as text and parsed.</summary>
    public async Task<(string Text, JsonObject Document)> ReadDocumentAsync()
    {
        using var client = Client();
        var text = await client.GetStringAsync(OpenApiDocumentSetup.DocumentPath);
        return (text, JsonNode.Parse(text)!.AsObject());
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
