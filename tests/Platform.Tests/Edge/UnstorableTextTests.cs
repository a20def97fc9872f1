using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Users;
using Platform.Models.Errors;

namespace Platform.Tests.Edge;

/// <summary>Text PostgreSQL cannot store (U+0000, unpaired surrogates) is refused at the edge with 422 naming the field, wherever it is in the request.</summary>
public sealed class UnstorableTextTests : DatabaseTest
{
    private record Typed(string? Name, JsonElement? Config);

    [Test]
    public void System_Text_Json_keeps_NUL_refuses_a_lone_surrogate_in_a_string_and_keeps_both_in_a_JsonElement()
    {
        // What the edge must make up for, checked rather than assumed.
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Assert.Multiple(() =>
        {
            Assert.That(JsonSerializer.Deserialize<Typed>("""{"name":"a\u0000b"}""", web)!.Name, Is.EqualTo("a\0b"));
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Typed>("""{"name":"a\ud800"}""", web));
            Assert.That(JsonSerializer.Deserialize<Typed>("""{"config":{"a":"\ud800","b\u0000":1}}""", web)!.Config!.Value.GetRawText(),
                Is.EqualTo("""{"a":"\ud800","b\u0000":1}"""));
        });
    }

    [Test]
    public async Task A_NUL_in_a_body_string_gets_422_naming_the_field()
    {
        using var response = await TestApi.Client().SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/login", """{"email":"a\u0000b@x.test","password":"p"}"""));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["email"], Is.Not.Null);
    }

    [TestCase("\\ud800")]
    [TestCase("\\udc00")]
    [TestCase("x\\ud800\\u0041")]
    [TestCase("\\udc00\\ud800")]
    public async Task An_escaped_unpaired_surrogate_gets_422_naming_the_field(string escaped)
    {
        using var response = await TestApi.Client().SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/signup",
            $$"""{"email":"a@x.test","password":"correct horse battery","name":"{{escaped}}"}"""));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["name"], Is.Not.Null);
    }

    [Test]
    public async Task A_surrogate_pair_is_stored_and_read_back()
    {
        var owner = await TestApi.SignUpAsync("Smile \ud83d\ude00");
        using var me = await TestApi.Client(owner.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(me, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(me))["user"]!["name"], Is.EqualTo("Smile \ud83d\ude00"));
    }

    [TestCase("""{"config":{"a":{"b":"x\u0000"}}}""", "config.a.b")]
    [TestCase("""{"config":{"a":[1,{"b":"\ud800"}]}}""", "config.a[1].b")]
    [TestCase("""{"config":{"a":{"b\u0000":1}}}""", "config.a")]
    [TestCase("""{"co\u0000nfig":{}}""", "body")]
    [TestCase("""{"config":"\udfff"}""", "config")]
    public async Task Nested_documents_and_property_names_are_checked_at_any_depth(string body, string field)
    {
        var (client, tenant) = await OwnerAsync();
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Put, $"/v1/tenants/{tenant}/workers/summarizer/config", body));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]![field], Is.Not.Null, problem.ToJsonString());
    }

    [Test]
    public async Task Array_elements_are_named_by_index()
    {
        var (client, tenant) = await OwnerAsync();
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/tenants/{tenant}/usage/events",
            """{"events":[{"meter":"api_calls","amount":1,"idempotency_key":"a"},{"meter":"api_calls","amount":1,"idempotency_key":"b\u0000"}]}"""));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["events[1].idempotency_key"], Is.Not.Null, problem.ToJsonString());
    }

    [TestCase("Idempotency-Key")]
    [TestCase("X-Tenant-ID")]
    [TestCase("User-Agent")]
    public async Task A_NUL_in_a_header_gets_422_naming_the_header(string header)
    {
        var (client, _) = await OwnerAsync();
        var request = TestApi.Request(HttpMethod.Get, "/v1/tenants/current/runs");
        Assert.That(request.Headers.TryAddWithoutValidation(header, "k\0y"), Is.True);
        using var response = await client.SendAsync(request);
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["header:" + header], Is.Not.Null, problem.ToJsonString());
    }

    [Test]
    public async Task A_NUL_in_an_API_key_is_refused_before_authentication()
    {
        var client = TestApi.Client();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer pk_live_\0abc");
        using var response = await client.GetAsync("/v1/tenants/current/usage");
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["header:Authorization"], Is.Not.Null);
    }

    [TestCase("worker_id=a%00b", "query:worker_id")]
    [TestCase("wor%00ker_id=x", "query")]
    public async Task Query_values_and_names_are_checked(string query, string field)
    {
        // Route values need no test here: ASP.NET Core refuses %00 in a path and leaves invalid UTF-8 percent-encoded.
        var (client, tenant) = await OwnerAsync();
        using var response = await client.GetAsync($"/v1/tenants/{tenant}/runs?{query}");
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]![field], Is.Not.Null, problem.ToJsonString());
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Raw_invalid_UTF8_gets_400_not_500(bool encodedSurrogate)
    {
        var bytes = Encoding.UTF8.GetBytes("""{"email":"a@x.test","password":"correct horse battery","name":"XYZ"}""");
        var at = Array.IndexOf(bytes, (byte)'X');
        // 0xFF is never UTF-8; ED A0 80 encodes U+D800 (CESU-8), which UTF-8 forbids.
        (bytes[at], bytes[at + 1], bytes[at + 2]) = encodedSurrogate ? ((byte)0xED, (byte)0xA0, (byte)0x80) : ((byte)0xFF, (byte)'Y', (byte)'Z');
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await TestApi.Client().PostAsync("/v1/auth/signup", content);
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Test]
    public async Task Raw_invalid_UTF8_in_a_JsonElement_gets_400_not_500()
    {
        var (client, tenant) = await OwnerAsync();
        var bytes = Encoding.UTF8.GetBytes("""{"config":{"a":"XYZ"}}""");
        var at = Array.IndexOf(bytes, (byte)'X');
        (bytes[at], bytes[at + 1], bytes[at + 2]) = (0xED, 0xA0, 0x80);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PutAsync($"/v1/tenants/{tenant}/workers/summarizer/config", content);
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Test]
    public async Task Storable_escapes_pass_through_unchanged()
    {
        var (client, tenant) = await OwnerAsync();
        using var response = await client.SendAsync(TestApi.Request(HttpMethod.Put, $"/v1/tenants/{tenant}/workers/summarizer/config",
            """{"config":{"quote\"d":"tab\there \u00e9 \ud83d\ude00 back\\u0000slash"}}"""));
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var config = (await TestApi.ReadAsync(response))["config"]!;
        Assert.That((string?)config["quote\"d"], Is.EqualTo("tab\there \u00e9 \ud83d\ude00 back\\u0000slash"));
    }

    [Test]
    public async Task An_engine_called_in_process_refuses_unstorable_text_with_a_validation_failure()
    {
        using var scope = TestApi.Services.CreateScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var refusal = Assert.ThrowsAsync<ValidationFailedException>(() => mediator.Send(new SignUp("a@x.test", "correct horse battery", "Bad\ud800", null)));
        Assert.That(refusal!.Errors.Keys, Is.EquivalentTo(new[] { "name" }));
        refusal = Assert.ThrowsAsync<ValidationFailedException>(() => mediator.Send(new LogIn("a\0b@x.test", "p", null)));
        Assert.That(refusal!.Errors.Keys, Is.EquivalentTo(new[] { "email" }));
    }

    private static async Task<(HttpClient Client, Guid Tenant)> OwnerAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var client = TestApi.Client(owner.Token);
        client.DefaultRequestHeaders.Add("X-Tenant-ID", tenant.ToString());
        return (client, tenant);
    }
}
