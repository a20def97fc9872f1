using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Hosting;

/// <summary>Proves that a product front end on an allowed origin may call the API from a browser and that other origins may not (ADR 0581).</summary>
public sealed class CorsTests
{
    private const string Allowed = "https://app.example.test";

    [Test]
    public async Task A_preflight_from_an_allowed_origin_gets_the_cors_headers()
    {
        await using var factory = Factory($"{Allowed}, https://admin.example.test:8443");
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Preflight(Allowed, "/v1/tenants"));

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Allowed));
            Assert.That(Header(response, "Access-Control-Allow-Methods"), Does.Contain("POST"));
            Assert.That(Header(response, "Access-Control-Allow-Headers")?.ToLowerInvariant(), Does.Contain("authorization").And.Contain("content-type"));
        });
    }

    [Test]
    public async Task A_preflight_from_another_origin_gets_no_cors_headers()
    {
        await using var factory = Factory(Allowed);
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Preflight("https://evil.example.test", "/v1/tenants"));

        Assert.Multiple(() =>
        {
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
            Assert.That(Header(response, "Access-Control-Allow-Methods"), Is.Null);
        });
    }

    [Test]
    public async Task An_answer_to_an_allowed_origin_carries_its_origin_and_exposes_retry_after_even_on_a_problem()
    {
        await using var factory = Factory(Allowed);
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/me");
        request.Headers.Add("Origin", Allowed);

        using var response = await client.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Allowed));
            Assert.That(Header(response, "Access-Control-Expose-Headers"), Does.Contain("Retry-After"));
        });
    }

    [Test]
    public async Task Without_allowed_origins_there_is_no_cors()
    {
        await using var factory = Factory("");
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Preflight(Allowed, "/v1/tenants"));

        Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.Null);
    }

    private static WebApplicationFactory<Program> Factory(string origins) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Cors:AllowedOrigins", origins));

    private static HttpRequestMessage Preflight(string origin, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}
