using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Tests.Hosting;

/// <summary>Checks the service's own surface: health, readiness, the OpenAPI document and the plan catalogue.</summary>
public sealed class PlatformSurfaceTests : DatabaseTest
{
    [Test]
    public async Task Healthz_and_readyz_answer_ok_with_the_database_up()
    {
        using var health = await TestApi.Client().GetAsync("/healthz");
        using var ready = await TestApi.Client().GetAsync("/readyz");
        Assert.Multiple(async () =>
        {
            Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((string?)(await TestApi.ReadAsync(ready))["status"], Is.EqualTo("ready"));
        });
    }

    [Test]
    public async Task The_openapi_document_lists_every_route_and_verb()
    {
        using var response = await TestApi.Client().GetAsync("/openapi/v1.json");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var paths = (await TestApi.ReadAsync(response))["paths"]!.AsObject();

        var routes = TestApi.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            // The document's own route and the reference UI that shows it (/docs) are not operations of the API.
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/openapi", StringComparison.Ordinal) && !raw.StartsWith("/docs", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: Normalise(e.RoutePattern.RawText!), Verb: m.ToLowerInvariant())))
            .ToList();
        Assert.That(routes, Has.Count.GreaterThan(10));

        var missing = routes.Where(r => paths[r.Path] is not JsonObject operations || operations[r.Verb] is null).ToList();
        Assert.That(missing, Is.Empty);
    }

    [Test]
    public async Task The_plan_catalogue_is_served_with_prices_in_cents()
    {
        var plans = (await TestApi.ReadAsync(await TestApi.Client().GetAsync("/v1/plans")))["data"]!.AsArray();
        var professional = plans.Single(p => (string?)p!["id"] == "professional")!;
        Assert.Multiple(() =>
        {
            Assert.That(plans.Select(p => (string?)p!["id"]), Is.EqualTo(new[] { "free", "starter", "professional", "enterprise" }));
            Assert.That((long?)professional["price_monthly_cents"], Is.EqualTo(19_900));
            Assert.That((long?)professional["quotas"]!["api_calls_per_month"], Is.EqualTo(1_000_000));
        });
    }

    /// <summary>Turns "/v1/tenants/{tenant_id}/" into the OpenAPI form "/v1/tenants/{tenant_id}".</summary>
    private static string Normalise(string raw)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(raw.StartsWith('/') ? raw : "/" + raw, @"\{(\w+):[^}]+\}", "{$1}");
        return path.Length > 1 ? path.TrimEnd('/') : path;
    }
}
