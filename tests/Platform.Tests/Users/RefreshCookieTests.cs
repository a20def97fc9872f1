using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Users;

/// <summary>Checks the dashboard's refresh cookie (ADR 0590): set only on request, HttpOnly, SameSite=Strict, scoped to /v1/auth, Secure over https, rotated by a refresh and cleared by a logout.</summary>
public sealed class RefreshCookieTests : DatabaseTest
{
    private WebApplicationFactory<Program> factory = null!;

    [OneTimeSetUp]
    public void Start() => factory = new WebApplicationFactory<Program>();

    [OneTimeTearDown]
    public void Stop() => factory.Dispose();

    // The clients keep no cookie jar: each test sends and reads the cookie itself, as it reads every other header.
    private HttpClient Client(string scheme = "http") =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri($"{scheme}://localhost"), HandleCookies = false, AllowAutoRedirect = false });

    private static string? RefreshCookieOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith("platform_refresh=", StringComparison.Ordinal)) : null;

    private static string ValueOf(string setCookie) => setCookie.Split(';')[0]["platform_refresh=".Length..];

    private static HttpRequestMessage Post(string url, object body, string? cookie = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", "platform_refresh=" + cookie);
        }
        return request;
    }

    [Test]
    public async Task Login_asking_for_the_cookie_sets_it_HttpOnly_SameSite_Strict_on_the_auth_path_and_keeps_the_token_out_of_the_body()
    {
        var user = await TestApi.SignUpAsync();
        using var response = await Client().SendAsync(Post("/v1/auth/login", new { email = user.Email, password = user.Password, refresh_cookie = true }));
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var cookie = RefreshCookieOf(response);
        var body = await TestApi.ReadAsync(response);
        Assert.That(cookie, Is.Not.Null);
        var attributes = cookie!.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ValueOf(cookie), Is.Not.Empty);
            Assert.That(attributes, Does.Contain("httponly"));
            Assert.That(attributes, Does.Contain("samesite=strict"));
            Assert.That(attributes, Does.Contain("path=/v1/auth"));
            Assert.That(attributes, Has.Some.StartsWith("max-age=" + (90 * 86400)));
            Assert.That(attributes, Does.Not.Contain("secure"), "over http the cookie cannot be Secure");
            Assert.That(body["refresh_token"], Is.Null);
            Assert.That((string?)body["access_token"], Is.Not.Empty);
        });
    }

    [Test]
    public async Task Sign_up_asking_for_the_cookie_over_https_sets_it_Secure()
    {
        var email = $"cookie-{Guid.NewGuid():N}@example.test";
        using var response = await Client("https").SendAsync(Post("/v1/auth/signup", new { email, password = "correct horse battery", name = "C", refresh_cookie = true }));
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var cookie = RefreshCookieOf(response);
        Assert.That(cookie, Is.Not.Null);
        Assert.Multiple(async () =>
        {
            Assert.That(cookie!.Split(';').Select(a => a.Trim().ToLowerInvariant()), Does.Contain("secure"));
            Assert.That((await TestApi.ReadAsync(response))["refresh_token"], Is.Null);
        });
    }

    [Test]
    public async Task Login_without_asking_sets_no_cookie_and_returns_the_refresh_token_in_the_body()
    {
        var user = await TestApi.SignUpAsync();
        using var response = await Client().SendAsync(Post("/v1/auth/login", new { email = user.Email, password = user.Password }));
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Multiple(async () =>
        {
            Assert.That(RefreshCookieOf(response), Is.Null);
            Assert.That((string?)(await TestApi.ReadAsync(response))["refresh_token"], Is.Not.Empty);
        });
    }

    [Test]
    public async Task Refresh_with_only_the_cookie_rotates_it_and_a_replayed_cookie_is_refused_and_cleared()
    {
        var user = await TestApi.SignUpAsync();
        using var login = await Client().SendAsync(Post("/v1/auth/login", new { email = user.Email, password = user.Password, refresh_cookie = true }));
        var first = ValueOf(RefreshCookieOf(login)!);

        using var refreshed = await Client().SendAsync(Post("/v1/auth/refresh", new { }, first));
        await TestApi.ExpectAsync(refreshed, HttpStatusCode.OK);
        var second = RefreshCookieOf(refreshed);
        var body = await TestApi.ReadAsync(refreshed);
        Assert.Multiple(() =>
        {
            Assert.That(second, Is.Not.Null);
            Assert.That(ValueOf(second!), Is.Not.EqualTo(first));
            Assert.That(body["refresh_token"], Is.Null);
        });
        using var me = await TestApi.Client((string)body["access_token"]!).GetAsync("/v1/me");
        await TestApi.ExpectAsync(me, HttpStatusCode.OK);

        // The rotated-out cookie is a replay: refused, and the answer tells the browser to drop the cookie.
        using var replay = await Client().SendAsync(Post("/v1/auth/refresh", new { }, first));
        await TestApi.ExpectProblemAsync(replay, HttpStatusCode.Unauthorized, "unauthorized");
        var cleared = RefreshCookieOf(replay);
        Assert.That(cleared, Is.Not.Null);
        Assert.That(ValueOf(cleared!), Is.Empty);
    }

    [Test]
    public async Task Logout_with_only_the_cookie_ends_the_session_and_clears_the_cookie()
    {
        var user = await TestApi.SignUpAsync();
        using var login = await Client().SendAsync(Post("/v1/auth/login", new { email = user.Email, password = user.Password, refresh_cookie = true }));
        var cookie = ValueOf(RefreshCookieOf(login)!);

        using var logout = await Client().SendAsync(Post("/v1/auth/logout", new { }, cookie));
        await TestApi.ExpectAsync(logout, HttpStatusCode.NoContent);
        var cleared = RefreshCookieOf(logout);
        Assert.That(cleared, Is.Not.Null);
        Assert.That(ValueOf(cleared!), Is.Empty);

        using var refresh = await Client().SendAsync(Post("/v1/auth/refresh", new { }, cookie));
        await TestApi.ExpectProblemAsync(refresh, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Refresh_without_a_token_or_a_cookie_gets_401()
    {
        using var response = await Client().SendAsync(Post("/v1/auth/refresh", new { }));
        Assert.That(response.StatusCode, Is.AnyOf(HttpStatusCode.Unauthorized, HttpStatusCode.UnprocessableEntity));
        Assert.That(RefreshCookieOf(response), Is.Null);
    }
}
