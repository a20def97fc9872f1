using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Tests.Operators;

public sealed class LoginRateLimitTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_the_per_ip_limit_of_login_attempts_under_12_parallel_requests()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Auth:OperatorLoginsPerMinutePerIp", "3");
            b.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new FixedClientIp()));
        });
        var client = factory.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            client.PostAsJsonAsync("/v1/admin/auth/login", new { email = $"nobody{i}@staff.test", password = "guess", totp_code = "123456" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(3));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(9));
        });
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.That(refused.Headers.RetryAfter, Is.Not.Null);
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    /// <summary>Gives every request the same client IP, as a client behind one address would have (the in-process test server has none).</summary>
    private sealed class FixedClientIp : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
                return nextMiddleware();
            });
            next(app);
        };
    }
}
