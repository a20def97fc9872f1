using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Operators;
using Platform.Models;

namespace Platform.Tests.Operators;

public sealed class LoginRateLimitTests : DatabaseTest
{
    [Test]
    public async Task Admits_exactly_the_per_ip_limit_of_login_attempts_under_12_parallel_requests()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var factory = Host(clock, limit: 3, ip: "203.0.113.7");
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
        Responses.DisposeAll(responses);

        // The next minute opens a fresh window.
        clock.Advance(TimeSpan.FromMinutes(1));
        using var later = await client.PostAsJsonAsync("/v1/admin/auth/login", new { email = "nobody@staff.test", password = "guess" });
        await TestApi.ExpectProblemAsync(later, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Two_api_instances_share_the_per_ip_limit_exactly_under_40_parallel_requests()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var first = Host(clock, limit: 7, ip: "203.0.113.9");
        await using var second = Host(clock, limit: 7, ip: "203.0.113.9");
        var clients = new[] { first.CreateClient(), second.CreateClient() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            clients[i % 2].PostAsJsonAsync("/v1/admin/auth/login", new { email = $"nobody{i}@staff.test", password = "guess" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(7), "7 attempts in all, not 7 per instance");
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(33));
            Assert.That(responses.Where((r, i) => i % 2 == 1).Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.GreaterThan(0));
            Assert.That(responses.Where((r, i) => i % 2 == 0).Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.GreaterThan(0));
        });
        Responses.DisposeAll(responses);

        // Another address has its own window.
        await using var third = Host(clock, limit: 7, ip: "198.51.100.1");
        using var other = await third.CreateClient().PostAsJsonAsync("/v1/admin/auth/login", new { email = "nobody@staff.test", password = "guess" });
        await TestApi.ExpectProblemAsync(other, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Two_api_instances_share_the_per_operator_lockout_exactly_under_20_parallel_wrong_attempts()
    {
        var op = await OperatorTestSupport.CreateAsync("support", totp: false);
        await using var first = Host(new ManualClock(DateTimeOffset.UtcNow), limit: 0, ip: null);
        await using var second = Host(new ManualClock(DateTimeOffset.UtcNow), limit: 0, ip: null);
        var clients = new[] { first.CreateClient(), second.CreateClient() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            clients[i % 2].PostAsJsonAsync("/v1/admin/auth/login", new { email = op.Email, password = $"wrong password {i}" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(LogInOperator.MaxFailures));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(20 - LogInOperator.MaxFailures));
        });
        Responses.DisposeAll(responses);
    }

    [Test]
    public async Task A_successful_login_records_the_time_and_the_client_ip()
    {
        var op = await OperatorTestSupport.CreateAsync("viewer", totp: false);
        await using var host = Host(new ManualClock(DateTimeOffset.UtcNow), limit: 5, ip: "203.0.113.21");

        using var login = await host.CreateClient().PostAsJsonAsync("/v1/admin/auth/login", new { email = op.Email, password = OperatorTestSupport.Password });

        await TestApi.ExpectAsync(login, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(login);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["operator"]!["last_login_ip"], Is.EqualTo("203.0.113.21"));
            Assert.That((string?)body["operator"]!["last_login_at"], Is.Not.Null);
        });
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT last_login_ip FROM platform_users WHERE id = @id", null, ("id", op.Id)), Is.EqualTo("203.0.113.21"));
    }

    /// <summary>Starts a separate API instance on the test database with its own clock, per-IP limit and a fixed client IP (null: none, as in-process hosts have).</summary>
    private static WebApplicationFactory<Program> Host(IClock clock, int limit, string? ip) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Auth:OperatorLoginsPerMinutePerIp", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.ConfigureTestServices(s =>
            {
                s.AddSingleton(clock);
                if (ip is not null)
                {
                    s.AddSingleton<IStartupFilter>(new FixedClientIp(IPAddress.Parse(ip)));
                }
            });
        });
}
