using System.Net;
using System.Net.Http.Json;
using System.Text;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Webhooks;

/// <summary>Bad input on every new route: problem details (400, 413, 415, 422), never a 500, and nothing written.</summary>
public sealed class EndpointInputTests : DatabaseTest
{
    private static readonly string[] RefusedUrls =
    [
        "http://10.0.0.1/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[fd00:ec2::254]/", "http://[::1]/hook",
        "https://[::1]/hook", "https://127.0.0.1/hook", "http://localhost:8080/hook", "https://localhost/hook", "https://192.168.1.10/",
        "https://100.64.0.1/", "https://224.0.0.1/", "https://0.0.0.0/", "ftp://example.com/hook", "file:///etc/passwd", "http://example.com/hook",
        "https://user:secret@example.com/hook", "https://user@example.com/hook", "not a url", "/relative/path", "", "   ", "https://example.com/#frag",
        "https://exa mple.com/", "https://example.com/\r\nX: y", "https://example.com/" + new string('a', 2048), "https://[::ffff:10.0.0.1]/",
    ];

    [TestCaseSource(nameof(RefusedUrls))]
    public async Task A_url_that_is_not_a_public_https_address_is_refused_naming_the_url(string url)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        using var response = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["url"], Is.Not.Null);
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    [Test]
    public async Task A_patch_to_a_refused_url_changes_nothing()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        using var response = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}",
            JsonContent.Create(new { url = "https://169.254.169.254/", description = "changed" }));
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        var row = await Keys.ReadRowAsync(tenantId, "SELECT url, description FROM webhook_endpoints");
        Assert.Multiple(() =>
        {
            Assert.That(row!["url"], Is.EqualTo(EndpointSetup.PublicUrl));
            Assert.That(row["description"], Is.EqualTo(""));
        });
    }

    [Test]
    public async Task With_AllowLoopback_http_to_loopback_is_accepted_but_private_addresses_still_are_not()
    {
        using var host = EndpointSetup.LoopbackHost();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var client = host.Client(owner.Token);
        foreach (var url in new[] { "http://127.0.0.1:5999/hook", "http://localhost:5999/hook", "http://[::1]:5999/hook", "https://127.0.0.1/hook" })
        {
            using var ok = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url });
            await TestApi.ExpectAsync(ok, HttpStatusCode.Created);
        }
        foreach (var url in new[] { "http://10.0.0.1/hook", "https://169.254.169.254/", "http://example.com/hook", "http://192.168.0.1/" })
        {
            using var refused = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url });
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(4));
    }

    private static IEnumerable<TestCaseData> RefusedHeaders()
    {
        yield return new TestCaseData(new Dictionary<string, string> { ["Bad Name"] = "x" }).SetName("a name with a space");
        yield return new TestCaseData(new Dictionary<string, string> { ["X:Colon"] = "x" }).SetName("a name with a colon");
        yield return new TestCaseData(new Dictionary<string, string> { [""] = "x" }).SetName("an empty name");
        yield return new TestCaseData(new Dictionary<string, string> { ["Content-Type"] = "text/plain" }).SetName("content-type");
        yield return new TestCaseData(new Dictionary<string, string> { ["Host"] = "evil.example" }).SetName("host");
        yield return new TestCaseData(new Dictionary<string, string> { ["Transfer-Encoding"] = "chunked" }).SetName("transfer-encoding");
        yield return new TestCaseData(new Dictionary<string, string> { ["Connection"] = "close" }).SetName("connection");
        yield return new TestCaseData(new Dictionary<string, string> { ["Proxy-Authorization"] = "x" }).SetName("proxy-*");
        yield return new TestCaseData(new Dictionary<string, string> { ["webhook-signature"] = "v1,forged" }).SetName("webhook-signature");
        yield return new TestCaseData(new Dictionary<string, string> { ["Webhook-Id"] = "msg_1" }).SetName("webhook-id");
        yield return new TestCaseData(new Dictionary<string, string> { ["X-A"] = "a\r\nX-Injected: 1" }).SetName("a value with CR LF");
        yield return new TestCaseData(new Dictionary<string, string> { ["X-A"] = "a\nb" }).SetName("a value with LF");
        yield return new TestCaseData(new Dictionary<string, string> { ["X-A"] = new string('v', 1001) }).SetName("a value over 1000 characters");
        yield return new TestCaseData(new Dictionary<string, string> { ["X-A"] = "ünïcödé ✓" }).SetName("a value beyond Latin-1");
        yield return new TestCaseData(new Dictionary<string, string> { ["X-A"] = "1", ["x-a"] = "2" }).SetName("one name twice");
        yield return new TestCaseData(Enumerable.Range(0, 21).ToDictionary(i => $"X-H{i}", i => "v")).SetName("21 headers");
    }

    [TestCaseSource(nameof(RefusedHeaders))]
    public async Task Custom_headers_that_break_the_rules_are_refused_naming_headers(Dictionary<string, string> headers)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        using var response = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl, headers });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["headers"], Is.Not.Null);
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    [Test]
    public async Task Twenty_headers_with_authorization_are_accepted()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var headers = Enumerable.Range(0, 19).ToDictionary(i => $"X-H{i}", i => new string('v', 1000));
        headers["Authorization"] = "Bearer theirs";
        var created = await EndpointSetup.CreateAsync(client, tenantId, new { url = EndpointSetup.PublicUrl, headers });
        Assert.That(created["headers"]!.AsObject(), Has.Count.EqualTo(20));
    }

    [Test]
    public async Task Unknown_and_unsubscribable_event_types_are_refused_naming_them()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        using var unknown = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId),
            new { url = EndpointSetup.PublicUrl, event_types = new[] { "run.completed", "run.exploded", "Member.Added" } });
        var problem = await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
        var message = problem["errors"]!["event_types"]!.ToJsonString();
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Contain("run.exploded"));
            Assert.That(message, Does.Contain("Member.Added"));
            Assert.That(message, Does.Not.Contain("'run.completed'"));
        });
        using var test = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl, event_types = new[] { "webhook.test" } });
        Assert.That((await TestApi.ExpectProblemAsync(test, HttpStatusCode.UnprocessableEntity, "validation_failed"))["errors"]!["event_types"]!.ToJsonString(),
            Does.Contain("webhook.test"));
        using var empty = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl, event_types = Array.Empty<string>() });
        await TestApi.ExpectProblemAsync(empty, HttpStatusCode.UnprocessableEntity, "validation_failed");

        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        foreach (var body in new[] { """{"event_types":["nope.nope"]}""", """{"event_types":"run.completed"}""", """{"event_types":[1,2]}""", """{"event_types":{}}""" })
        {
            using var patch = await client.SendAsync(TestApi.Request(HttpMethod.Patch, $"{EndpointSetup.Endpoints(tenantId)}/{id}", body));
            var refused = await TestApi.ExpectProblemAsync(patch, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(refused["errors"]!["event_types"], Is.Not.Null, body);
        }
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints WHERE event_types IS NULL"), Is.EqualTo(1));
    }

    [TestCase("""{"url":"https://hooks.example.com/x","rate_limit":0}""", "rate_limit")]
    [TestCase("""{"url":"https://hooks.example.com/x","rate_limit":10001}""", "rate_limit")]
    [TestCase("""{"url":"https://hooks.example.com/x","description":"%LONG%"}""", "description")]
    [TestCase("""{"description":"no url"}""", "url")]
    [TestCase("""{"url":null}""", "url")]
    public async Task Out_of_range_fields_are_refused_with_422_naming_them(string json, string field)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, EndpointSetup.Endpoints(tenantId), json.Replace("%LONG%", new string('d', 501))));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]![field], Is.Not.Null);
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    [TestCase("")]
    [TestCase("{")]
    [TestCase("[]")]
    [TestCase("null")]
    [TestCase("\"url\"")]
    [TestCase("""{"url":5}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","rate_limit":"fast"}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","rate_limit":1.5}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","enabled":"yes"}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","headers":{"X-A":5}}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","headers":["X-A"]}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","event_types":"run.completed"}""")]
    [TestCase("""{"url":"https://hooks.example.com/x","event_types":[null]}""")]
    public async Task Malformed_bodies_and_wrong_types_are_problem_details_and_write_nothing(string json)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, EndpointSetup.Endpoints(tenantId), json));
        Assert.That((int)response.StatusCode, Is.AnyOf(400, 422), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    [TestCase("""{"rate_limit":"fast"}""", 422)]
    [TestCase("""{"rate_limit":0}""", 422)]
    [TestCase("""{"enabled":"yes"}""", 422)]
    [TestCase("""{"url":"ftp://example.com"}""", 422)]
    [TestCase("""{"headers":{"Host":"x"}}""", 422)]
    [TestCase("{", 400)]
    [TestCase("", 400)]
    public async Task Patches_with_bad_input_are_problem_details_and_change_nothing(string json, int status)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId, new { url = EndpointSetup.PublicUrl, rate_limit = 5 }));
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Patch, $"{EndpointSetup.Endpoints(tenantId)}/{id}", json));
        Assert.That((int)response.StatusCode, Is.EqualTo(status), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var row = await Keys.ReadRowAsync(tenantId, "SELECT rate_limit, url, enabled, headers::text AS headers, updated_at = created_at AS untouched FROM webhook_endpoints");
        Assert.Multiple(() =>
        {
            Assert.That(row!["rate_limit"], Is.EqualTo(5));
            Assert.That(row["untouched"], Is.True);
        });
    }

    [Test]
    public async Task An_oversized_body_is_413_and_a_non_json_body_415()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var huge = "{\"url\":\"https://hooks.example.com/x\",\"description\":\"" + new string('x', 2_000_000) + "\"}";
        using var large = await client.SendAsync(TestApi.Request(HttpMethod.Post, EndpointSetup.Endpoints(tenantId), huge));
        await TestApi.ExpectProblemAsync(large, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        using var text = await client.PostAsync(EndpointSetup.Endpoints(tenantId), new StringContent("url=https://x", Encoding.UTF8, "text/plain"));
        await TestApi.ExpectProblemAsync(text, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(0));
    }

    [TestCase("status=sent", "status")]
    [TestCase("status=", "status")]
    [TestCase("event_type=run.exploded", "event_type")]
    [TestCase("limit=0", "limit")]
    [TestCase("limit=201", "limit")]
    [TestCase("cursor=bogus", "cursor")]
    public async Task Bad_delivery_filters_are_refused_naming_them(string query, string field)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        using var response = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?{query}");
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]![field], Is.Not.Null);
    }

    [Test]
    public async Task Limit_that_is_not_a_number_is_a_400()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync();
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        using var response = await client.GetAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}/deliveries?limit=many");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }
}
