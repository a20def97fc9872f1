using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Hosting;

namespace Platform.Tests.Hosting;

/// <summary>Checks that the routes are found rather than listed (ADR 0400): every endpoint group of the Api assembly is mapped by the
/// application, and every operation the OpenAPI document lists carries its name, summary, tag, path parameters and problem responses.</summary>
public sealed class EndpointGroupTests
{
    [Test]
    public void Every_endpoint_group_of_the_api_assembly_has_its_routes_in_the_application()
    {
        var served = Routes(TestApi.Services.GetRequiredService<EndpointDataSource>().Endpoints);
        Assert.That(EndpointGroups.All, Has.Count.GreaterThanOrEqualTo(16), "Fewer endpoint groups than features: the discovery misses some.");

        var unmapped = new List<string>();
        foreach (var group in EndpointGroups.All)
        {
            var alone = new RecordingRoutes(TestApi.Services);
            alone.MapEndpointGroup(group);
            var routes = Routes(alone.DataSources.SelectMany(d => d.Endpoints));
            Assert.That(routes, Is.Not.Empty, $"{group.Name} maps no route.");
            unmapped.AddRange(routes.Where(r => !served.Contains(r)).Select(r => $"{group.Name}: {r}"));
        }
        Assert.That(unmapped, Is.Empty, "Routes of endpoint groups the application does not serve.");
    }

    [Test]
    public void Every_endpoint_behind_the_operator_policy_is_mapped_by_the_operator_group_and_checks_the_operator_per_request()
    {
        var endpoints = TestApi.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var operatorEndpoints = endpoints
            .Where(e => e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any(a => a.Policy == Platform.Api.Auth.OperatorAuth.Policy))
            .ToList();
        Assert.That(operatorEndpoints, Has.Count.GreaterThan(20));
        var unchecked_ = operatorEndpoints.Where(e => e.Metadata.GetMetadata<Platform.Api.Auth.OperatorRoute>() is null)
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.That(unchecked_, Is.Empty, "Operator endpoints mapped without MapOperatorGroup (no per-request operator check).");
        Assert.That(endpoints.Where(e => e.RoutePattern.RawText?.StartsWith("/v1/admin/", StringComparison.Ordinal) == true
                && e.Metadata.GetMetadata<Platform.Api.Auth.OperatorRoute>() is null).Select(e => e.RoutePattern.RawText),
            Is.SubsetOf(new[] { "/v1/admin/auth/login" }), "Only the operator sign-in is outside the operator group.");
    }

    [Test]
    public async Task Every_operation_has_a_unique_name_a_summary_a_tag_its_path_parameters_and_its_problem_responses()
    {
        using var response = await TestApi.Client().GetAsync("/openapi/v1.json");
        var document = await TestApi.ReadAsync(response);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var operations = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            var pathParameters = System.Text.RegularExpressions.Regex.Matches(path, @"\{(\w+)\}").Select(m => m.Groups[1].Value).ToList();
            foreach (var (verb, node) in item!.AsObject())
            {
                if (node is not JsonObject operation || verb is "parameters" or "summary" or "description" or "servers")
                {
                    continue;
                }
                operations++;
                var label = $"{verb.ToUpperInvariant()} {path}";
                var name = (string?)operation["operationId"];
                if (name is null || !char.IsLower(name[0]) || !names.Add(name))
                {
                    failures.Add($"{label}: operationId '{name}' is missing, not camelCase or not unique");
                }
                if (string.IsNullOrWhiteSpace((string?)operation["summary"]))
                {
                    failures.Add($"{label}: no summary");
                }
                if (operation["tags"] is not JsonArray { Count: > 0 })
                {
                    failures.Add($"{label}: no tag");
                }
                var declared = (operation["parameters"] as JsonArray ?? [])
                    .Where(p => (string?)p!["in"] == "path").Select(p => (string)p!["name"]!).ToHashSet(StringComparer.Ordinal);
                failures.AddRange(pathParameters.Where(p => !declared.Contains(p)).Select(p => $"{label}: path parameter {{{p}}} is not declared"));
                var responses = operation["responses"]?.AsObject() ?? [];
                var problems = responses.Where(r => r.Key.StartsWith('4') || r.Key.StartsWith('5'))
                    .Where(r => r.Value?["content"]?["application/problem+json"] is not null).ToList();
                if (problems.Count == 0)
                {
                    failures.Add($"{label}: declares no problem response");
                }
            }
        }
        Assert.That(operations, Is.GreaterThan(50));
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static HashSet<string> Routes(IEnumerable<Endpoint> endpoints) => endpoints
        .OfType<RouteEndpoint>()
        .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Collects the routes one endpoint group maps, with the application's services (so that handlers bind as they do there).</summary>
    private sealed class RecordingRoutes(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider { get; } = services;

        public ICollection<EndpointDataSource> DataSources { get; } = new List<EndpointDataSource>();

        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(ServiceProvider);
    }
}
