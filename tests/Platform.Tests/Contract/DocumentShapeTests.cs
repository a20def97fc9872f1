using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Api.Hosting;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Operators;
using Platform.Models.Tenants;

namespace Platform.Tests.Contract;

/// <summary>Checks what the document says about types, security and problems, and that /docs shows it without a CDN.</summary>
public sealed partial class DocumentShapeTests
{
    private static JsonObject document = null!;

    [OneTimeSetUp]
    public static async Task ReadAsync()
    {
        using var response = await TestApi.Client().GetAsync(OpenApiDocumentSetup.DocumentPath);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        document = (await TestApi.ReadAsync(response)).AsObject();
    }

    private static JsonObject Schemas => document["components"]!["schemas"]!.AsObject();

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => (p.Key, o.Key, o.Value!.AsObject())));

    /// <summary>Walks every schema node of the document with its JSON path.</summary>
    private static IEnumerable<(string Where, JsonObject Schema)> SchemaNodes(JsonNode? node, string where)
    {
        if (node is JsonObject obj)
        {
            yield return (where, obj);
            foreach (var (key, value) in obj)
            {
                foreach (var nested in SchemaNodes(value, $"{where}.{key}"))
                {
                    yield return nested;
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                foreach (var nested in SchemaNodes(array[i], $"{where}[{i}]"))
                {
                    yield return nested;
                }
            }
        }
    }

    private static IEnumerable<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonArray many => many.Select(t => (string)t!),
        JsonValue one => [(string)one!],
        _ => [],
    };

    [Test]
    public void Integers_are_typed_integer_and_never_as_strings()
    {
        var mixed = SchemaNodes(document, "$").Where(n => Types(n.Schema).Contains("string") && Types(n.Schema).Any(t => t is "integer" or "number")).Select(n => n.Where).ToList();
        var limits = Schemas["PlanLimits"]!["properties"]!["api_calls_per_month"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(mixed, Is.Empty);
            Assert.That(Types(limits), Is.EqualTo(new[] { "integer" }));
            Assert.That(limits.ContainsKey("pattern"), Is.False);
        });
    }

    [Test]
    public void Every_date_time_is_a_string_with_format_date_time_and_null_only_where_the_field_is_nullable()
    {
        var untyped = SchemaNodes(document, "$").Where(n => (string?)n.Schema["format"] == "date-time" && !Types(n.Schema).Contains("string")).Select(n => n.Where).ToList();
        var member = Schemas["MemberResponse"]!["properties"]!;
        var key = Schemas["ApiKeyResponse"]!["properties"]!;
        Assert.Multiple(() =>
        {
            Assert.That(untyped, Is.Empty);
            Assert.That(Types(member["created_at"]!.AsObject()), Is.EqualTo(new[] { "string" }));
            Assert.That(Types(key["revoked_at"]!.AsObject()), Is.EquivalentTo(new[] { "string", "null" }));
            Assert.That(Types(key["name"]!.AsObject()), Is.EqualTo(new[] { "string" }));
        });
    }

    [Test]
    public void Roles_and_scopes_are_enums_of_the_wire_names_defined_in_Models()
    {
        static IEnumerable<string?> Enum(JsonNode schema) => schema["enum"]!.AsArray().Select(v => (string?)v).Where(v => v is not null);
        var tenantRoles = System.Enum.GetValues<TenantRole>().Select(r => r.ToWire()).ToList();
        var operatorRoles = System.Enum.GetValues<OperatorRole>().Select(r => r.ToWire()).ToList();
        Assert.Multiple(() =>
        {
            foreach (var (schema, property) in new[] { ("MemberResponse", "role"), ("ChangeRoleRequest", "role"), ("CreateInvitationRequest", "role"), ("InvitationResponse", "role"), ("MembershipResponse", "role") })
            {
                Assert.That(Enum(Schemas[schema]!["properties"]![property]!), Is.EqualTo(tenantRoles), $"{schema}.{property}");
            }
            foreach (var (schema, property) in new[] { ("OperatorResponse", "role"), ("ChangeOperatorRoleRequest", "role"), ("CreateOperatorRequest", "role") })
            {
                Assert.That(Enum(Schemas[schema]!["properties"]![property]!), Is.EqualTo(operatorRoles), $"{schema}.{property}");
            }
            foreach (var schema in new[] { "CreateApiKeyRequest", "ApiKeyResponse", "CreatedApiKeyResponse" })
            {
                Assert.That(Enum(Schemas[schema]!["properties"]!["permissions"]!["items"]!), Is.EquivalentTo(ApiKeyPermissions.All), schema);
            }
        });
    }

    [Test]
    public void Optional_request_fields_are_not_required()
    {
        var requests = Schemas.Where(s => s.Key.EndsWith("Request", StringComparison.Ordinal)).ToList();
        var requiredButNullable = requests
            .SelectMany(s => (s.Value!["required"]?.AsArray() ?? []).Select(r => (string)r!)
                .Where(r => Types(s.Value!["properties"]![r]!.AsObject()).Contains("null")).Select(r => $"{s.Key}.{r}"))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(requests, Has.Count.GreaterThan(10));
            Assert.That(requiredButNullable, Is.Empty);
        });
    }

    [Test]
    public void Every_problem_response_uses_the_shared_problem_schema()
    {
        var problem = Schemas[OpenApiContract.ProblemSchemaId]!.AsObject();
        var responses = Operations().SelectMany(o => o.Operation["responses"]!.AsObject()
            .Where(r => int.Parse(r.Key, System.Globalization.CultureInfo.InvariantCulture) >= 400)
            .Select(r => (Where: $"{o.Method} {o.Path} {r.Key}", Content: r.Value!["content"]?.AsObject()))).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(problem["properties"]!.AsObject().Select(p => p.Key),
                Is.SupersetOf(new[] { "type", "title", "status", "detail", "instance", "code", "request_id", "errors" }));
            Assert.That(Types(problem["properties"]!["errors"]!["additionalProperties"]!.AsObject()), Is.EqualTo(new[] { "array" }));
            Assert.That(responses, Has.Count.GreaterThan(100));
            foreach (var (where, content) in responses)
            {
                Assert.That(content?.Select(c => c.Key), Is.EqualTo(new[] { "application/problem+json" }), where);
                Assert.That((string?)content?["application/problem+json"]?["schema"]?["$ref"], Is.EqualTo("#/components/schemas/ProblemDetails"), where);
            }
        });
    }

    [Test]
    public void Operations_require_the_credentials_their_routes_accept()
    {
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        static List<string> Schemes(JsonObject operation) =>
            operation["security"]?.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)).ToList() ?? [];
        JsonObject Op(string path, string method) => document["paths"]![path]![method]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(schemes.Select(s => s.Key), Is.EquivalentTo(new[] { OpenApiContract.UserTokenScheme, OpenApiContract.ApiKeyScheme, OpenApiContract.OperatorTokenScheme }));
            Assert.That(schemes.Select(s => (string?)s.Value!["scheme"]), Is.All.EqualTo("bearer"));
            Assert.That((string?)schemes[OpenApiContract.ApiKeyScheme]!["bearerFormat"], Does.StartWith(ApiKeyPermissions.SecretPrefix));
            Assert.That(Schemes(Op("/v1/plans", "get")), Is.Empty);
            Assert.That(Schemes(Op("/v1/auth/signup", "post")), Is.Empty);
            Assert.That(Schemes(Op("/v1/admin/auth/login", "post")), Is.Empty);
            Assert.That(Schemes(Op("/v1/billing/stripe/webhook", "post")), Is.Empty);
            Assert.That(Schemes(Op("/v1/me", "get")), Is.EqualTo(new[] { OpenApiContract.UserTokenScheme }));
            Assert.That(Schemes(Op("/v1/tenants/{tenant_id}/runs", "post")), Is.EqualTo(new[] { OpenApiContract.UserTokenScheme, OpenApiContract.ApiKeyScheme }));
            Assert.That(Schemes(Op("/v1/admin/tenants", "get")), Is.EqualTo(new[] { OpenApiContract.OperatorTokenScheme }));
            Assert.That(Op("/v1/tenants/{tenant_id}/runs", "post")["responses"]!.AsObject().Select(r => r.Key), Is.SupersetOf(new[] { "401", "404", "422", "429" }));
            Assert.That(Op("/v1/plans", "get")["responses"]!.AsObject().Select(r => r.Key), Has.None.EqualTo("401"));
            // Every operation that names a credential answers 401 without one.
            foreach (var (path, method, operation) in Operations().Where(o => Schemes(o.Operation).Count > 0))
            {
                Assert.That(operation["responses"]!["401"], Is.Not.Null, $"{method} {path}");
            }
        });
    }

    [Test]
    public void Every_route_parameter_is_declared_and_tags_are_listed()
    {
        var undeclared = Operations().SelectMany(o => RouteParameter().Matches(o.Path).Select(m => m.Groups[1].Value)
            .Where(name => !(o.Operation["parameters"]?.AsArray() ?? []).Any(p => (string?)p!["name"] == name && (string?)p["in"] == "path" && (bool?)p["required"] == true))
            .Select(name => $"{o.Method} {o.Path} {{{name}}}")).ToList();
        var declaredTags = document["tags"]!.AsArray().Select(t => (string?)t!["name"]).ToHashSet();
        var usedTags = Operations().SelectMany(o => o.Operation["tags"]?.AsArray().Select(t => (string?)t) ?? []).ToHashSet();
        Assert.Multiple(() =>
        {
            Assert.That(undeclared, Is.Empty);
            Assert.That(usedTags, Is.SubsetOf(declaredTags));
            Assert.That((string?)document["info"]!["title"], Is.EqualTo("Platform API"));
            Assert.That((string?)document["info"]!["description"], Is.Not.Empty);
        });
    }

    [Test]
    public async Task The_reference_UI_at_docs_is_anonymous_shows_the_document_and_loads_no_script_from_another_host()
    {
        // Scalar answers /docs with a redirect to /docs/ (its assets are relative to the folder), as a browser follows it.
        using var entry = await TestApi.Client().GetAsync(OpenApiDocumentSetup.ReferencePath);
        var pagePath = OpenApiDocumentSetup.ReferencePath;
        if (entry.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.MovedPermanently)
        {
            var location = entry.Headers.Location!;
            pagePath = new Uri(entry.RequestMessage!.RequestUri!, location).AbsolutePath;
            Assert.That(pagePath, Is.EqualTo(OpenApiDocumentSetup.ReferencePath + "/"));
        }
        using var page = await TestApi.Client().GetAsync(pagePath);
        await TestApi.ExpectAsync(page, HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            Assert.That(html, Does.Contain(OpenApiDocumentSetup.DocumentPath.TrimStart('/')), html);
            Assert.That(scripts, Is.Not.Empty);
            Assert.That(scripts, Has.None.Match("^(https?:)?//"));
        });
        // Every script comes from this service; one of them is the whole UI bundle (the rest is Scalar's small glue).
        var sizes = new List<int>();
        foreach (var script in scripts)
        {
            var url = new Uri(page.RequestMessage!.RequestUri!, script).PathAndQuery;
            using var asset = await TestApi.Client().GetAsync(url);
            await TestApi.ExpectAsync(asset, HttpStatusCode.OK);
            sizes.Add((await asset.Content.ReadAsByteArrayAsync()).Length);
        }
        Assert.That(sizes.Max(), Is.GreaterThan(100_000), string.Join(", ", scripts));
        // Scalar's glue (scalar.aspnetcore.js) turns the page's relative document route into the app's /openapi/v1.json.
        Assert.That(scripts, Has.Some.EndsWith("scalar.aspnetcore.js"));
        using var document = await TestApi.Client().GetAsync(OpenApiDocumentSetup.DocumentPath);
        await TestApi.ExpectAsync(document, HttpStatusCode.OK);
    }

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex("<script[^>]*\\bsrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
