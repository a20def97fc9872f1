using System.Net;
using System.Text;

namespace Platform.Tests.Edge;

/// <summary>Sends empty, malformed, wrong-type, wrong-shape and oversized bodies to every body-taking route of the foundation: each gets a 4xx problem, never a 500.</summary>
public sealed class BadInputTests : DatabaseTest
{
    public static IEnumerable<TestCaseData> Routes()
    {
        yield return new TestCaseData("POST", "/v1/auth/signup", "email").SetArgDisplayNames("signup");
        yield return new TestCaseData("POST", "/v1/auth/login", "email").SetArgDisplayNames("login");
        yield return new TestCaseData("POST", "/v1/tenants", "name").SetArgDisplayNames("create tenant");
        yield return new TestCaseData("PATCH", "/v1/tenants/{tenant}", "name").SetArgDisplayNames("update tenant");
        yield return new TestCaseData("PATCH", "/v1/tenants/{tenant}/members/{owner}", "role").SetArgDisplayNames("change role");
    }

    public static IEnumerable<TestCaseData> Bodies()
    {
        foreach (var route in Routes())
        {
            var (verb, path, field) = ((string)route.Arguments[0]!, (string)route.Arguments[1]!, (string)route.Arguments[2]!);
            var name = route.TestName ?? path;
            yield return new TestCaseData(verb, path, "", 400).SetArgDisplayNames(name, "empty");
            yield return new TestCaseData(verb, path, "{", 400).SetArgDisplayNames(name, "malformed");
            yield return new TestCaseData(verb, path, "[1,2,3]", 400).SetArgDisplayNames(name, "array");
            yield return new TestCaseData(verb, path, "null", 400).SetArgDisplayNames(name, "null");
            yield return new TestCaseData(verb, path, "{\"" + field + "\": {\"nested\": true}}", 422).SetArgDisplayNames(name, "wrong type");
            yield return new TestCaseData(verb, path, $$"""{"{{field}}": 12345}""", 422).SetArgDisplayNames(name, "number for string");
        }
    }

    [TestCaseSource(nameof(Bodies))]
    public async Task A_bad_body_gets_a_problem_not_a_500(string verb, string path, string body, int expected)
    {
        var (client, url) = await PrepareAsync(path);
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(verb), url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });
        var problem = await TestApi.ExpectProblemAsync(response, (HttpStatusCode)expected, "validation_failed");
        Assert.That(problem["errors"], Is.Not.Null);
    }

    [TestCaseSource(nameof(Routes))]
    public async Task An_oversized_body_gets_413(string verb, string path, string field)
    {
        var (client, url) = await PrepareAsync(path);
        var huge = $$"""{"{{field}}": "{{new string('x', 2_000_000)}}"}""";
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(verb), url)
        {
            Content = new StringContent(huge, Encoding.UTF8, "application/json"),
        });
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [TestCaseSource(nameof(Routes))]
    public async Task A_long_field_within_the_body_limit_gets_422_naming_it(string verb, string path, string field)
    {
        var (client, url) = await PrepareAsync(path);
        var others = field == "email" ? "" : """, "email": "a@b.co" """;
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(verb), url)
        {
            Content = new StringContent($$"""{"{{field}}": "{{new string('x', 5_000)}}"{{others}}}""", Encoding.UTF8, "application/json"),
        });
        Assert.That((int)response.StatusCode, Is.AnyOf(401, 422), await response.Content.ReadAsStringAsync());
        if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            var problem = await TestApi.ReadAsync(response);
            Assert.That(problem["errors"]![field], Is.Not.Null);
        }
    }

    [TestCaseSource(nameof(Routes))]
    public async Task A_non_json_content_type_gets_415(string verb, string path, string field)
    {
        var (client, url) = await PrepareAsync(path);
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(verb), url)
        {
            Content = new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"),
        });
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Test]
    public async Task Missing_fields_are_named_in_a_422()
    {
        var (client, _) = await PrepareAsync("/v1/tenants");
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/tenants", "{}"));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.Multiple(() =>
        {
            Assert.That(problem["errors"]!["name"], Is.Not.Null);
            Assert.That(problem["errors"]!["slug"], Is.Not.Null);
        });
    }

    [Test]
    public async Task Unknown_routes_and_verbs_get_problem_details()
    {
        using var missing = await TestApi.Client().GetAsync("/v1/nothing-here");
        await TestApi.ExpectProblemAsync(missing, HttpStatusCode.NotFound, "not_found");
        using var verb = await TestApi.Client().PutAsync("/v1/auth/login", new StringContent("{}", Encoding.UTF8, "application/json"));
        await TestApi.ExpectProblemAsync(verb, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    private static async Task<(HttpClient Client, string Url)> PrepareAsync(string path)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var url = path.Replace("{tenant}", tenant.ToString(), StringComparison.Ordinal)
            .Replace("{owner}", owner.Id.ToString(), StringComparison.Ordinal);
        return (TestApi.Client(owner.Token), url);
    }
}
