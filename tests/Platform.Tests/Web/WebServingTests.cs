using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Web;

/// <summary>Checks how the API serves a built dashboard (ADR 0590): index.html for page paths with no-cache, hashed assets cached for good, and API paths never falling back.</summary>
public sealed class WebServingTests
{
    private string dist = null!;
    private WebApplicationFactory<Program> factory = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // A dist folder of the shape vite builds, so that these tests hold whether or not web/ was built.
        dist = Directory.CreateTempSubdirectory("platform-web-dist").FullName;
        Directory.CreateDirectory(Path.Combine(dist, "assets"));
        await File.WriteAllTextAsync(Path.Combine(dist, "index.html"), "<!doctype html><title>Platform</title><div id=\"root\"></div>");
        await File.WriteAllTextAsync(Path.Combine(dist, "assets", "index-Ab12Cd34.js"), "console.log('app')");
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Web:DistPath", dist));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        factory.Dispose();
        Directory.Delete(dist, recursive: true);
    }

    private HttpClient Client() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [TestCase("/")]
    [TestCase("/signin")]
    [TestCase("/t/0190a0f4-0000-7000-8000-000000000000/members")]
    [TestCase("/invitations/accept?token=abc")]
    [TestCase("/usage")]
    [TestCase("/billing")]
    [TestCase("/admin")]
    [TestCase("/admin/tenants/42")]
    public async Task A_page_path_gets_index_html_that_is_never_cached_stale(string path)
    {
        using var response = await Client().GetAsync(path);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Multiple(async () =>
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            Assert.That(response.Headers.CacheControl?.NoCache, Is.True);
            Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("<div id=\"root\">"));
        });
    }

    [Test]
    public async Task A_hashed_asset_is_cached_for_a_year_as_immutable()
    {
        using var response = await Client().GetAsync("/assets/index-Ab12Cd34.js");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.CacheControl?.MaxAge, Is.EqualTo(TimeSpan.FromDays(365)));
            Assert.That(response.Headers.CacheControl?.Extensions.Select(e => e.Name), Does.Contain("immutable"));
            Assert.That(response.Headers.CacheControl?.Public, Is.True);
        });
    }

    [Test]
    public async Task Index_html_asked_by_name_is_not_cached_either()
    {
        using var response = await Client().GetAsync("/index.html");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.That(response.Headers.CacheControl?.NoCache, Is.True);
    }

    [TestCase("/v1/no-such-route")]
    [TestCase("/v1/tenants/not-a-guid/nothing")]
    [TestCase("/openapi/v1/deeper/path")]
    [TestCase("/docs/nothing/here")]
    [TestCase("/healthz/deep")]
    [TestCase("/assets/missing-00000000.js")]
    public async Task An_api_path_or_a_missing_file_keeps_its_problem_404(string path)
    {
        using var response = await Client().GetAsync(path);
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_post_to_a_page_path_is_not_answered_with_the_page()
    {
        using var response = await Client().PostAsync("/signin", new StringContent("{}"));
        Assert.That((int)response.StatusCode, Is.GreaterThanOrEqualTo(400));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.Not.EqualTo("text/html"));
    }

    [Test]
    public async Task A_post_without_a_body_still_reaches_its_api_route()
    {
        var user = await TestApi.SignUpAsync();
        using var client = Client();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.Token);
        using var response = await client.PostAsync("/v1/auth/logout", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.NoContent);
    }

    [Test]
    public async Task The_api_still_answers_beside_the_dashboard()
    {
        using var response = await Client().GetAsync("/v1/plans");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
    }

    [Test]
    public async Task Without_a_dist_folder_no_page_is_served()
    {
        using var response = await TestApi.Client().GetAsync("/signin");
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public void A_dist_folder_without_index_html_stops_the_start_naming_the_key()
    {
        var empty = Directory.CreateTempSubdirectory("platform-web-empty").FullName;
        try
        {
            using var broken = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("Web:DistPath", empty));
            var error = Assert.Catch(() => broken.CreateClient());
            Assert.That(error!.ToString(), Does.Contain("Web:DistPath"));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
