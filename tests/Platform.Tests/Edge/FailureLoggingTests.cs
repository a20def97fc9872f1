using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using Platform.Api.Errors;

namespace Platform.Tests.Edge;

/// <summary>One failure writes one log entry with its request id, trace id and route; a flood of the same failure is counted, not logged; a refusal logs no stack.</summary>
public sealed partial class FailureLoggingTests : DatabaseTest
{
    private const string Login = """{"email":"someone@x.test","password":"correct horse battery"}""";

    [Test]
    public async Task A_flood_of_identical_500s_is_logged_a_bounded_number_of_times_each_once_with_request_trace_and_route()
    {
        var logs = new CapturedLogs();
        await using var factory = Unreachable(logs);
        var client = factory.CreateClient();
        for (var i = 0; i < 3 * FailureLog.PerMinute; i++)
        {
            using var response = await client.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/login", Login));
            // An unreachable database answers 503 with Retry-After since ADR 0661 (it was a 500); it is still logged, and bounded.
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.ServiceUnavailable, "database_unavailable");
        }

        var failures = RequestFailures(logs);
        Assert.Multiple(() =>
        {
            Assert.That(failures, Has.Count.EqualTo(FailureLog.PerMinute), Describe(logs));
            Assert.That(failures.Select(e => e.Category).Distinct(), Is.EqualTo(new[] { typeof(FailureLog).FullName }));
            Assert.That(logs.Entries.Where(e => e.Category.StartsWith("Microsoft.AspNetCore.Diagnostics", StringComparison.Ordinal)), Is.Empty);
            Assert.That(failures.Select(e => e.Message), Has.All.Contains("POST /v1/auth/login in LogIn"));
            Assert.That(failures.Select(e => e.Message), Has.All.Matches(RequestAndTrace()));
        });
    }

    [Test]
    public async Task One_failure_writes_one_entry()
    {
        var logs = new CapturedLogs();
        await using var factory = Unreachable(logs);
        using var response = await factory.CreateClient().SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/login", Login));
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.ServiceUnavailable, "database_unavailable");
        Assert.That(RequestFailures(logs), Has.Count.EqualTo(1), Describe(logs));
    }

    [Test]
    public async Task Refused_input_logs_no_stack()
    {
        var logs = new CapturedLogs();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        var client = factory.CreateClient();
        using var nul = await client.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/login", """{"email":"a\u0000b@x.test","password":"p"}"""));
        await TestApi.ExpectProblemAsync(nul, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var malformed = await client.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/login", """{"email":"""));
        await TestApi.ExpectProblemAsync(malformed, HttpStatusCode.BadRequest, "validation_failed");
        using var engine = await client.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/auth/signup", """{"email":"not-an-email","password":"x"}"""));
        await TestApi.ExpectProblemAsync(engine, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(logs.Entries.Where(e => e.Exception is not null || e.Level >= LogLevel.Warning), Is.Empty, Describe(logs));
    }

    [Test]
    public void Failures_past_the_limit_are_counted_and_summed_up_once_the_minute_ends()
    {
        var logs = new CapturedLogs();
        using var factory = new LoggerFactory([logs]);
        var time = new ManualTime();
        using var log = new FailureLog(factory.CreateLogger<FailureLog>(), time);
        var http = new DefaultHttpContext();
        http.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/v1/things/{id}"), 0, null, "things"));
        for (var i = 0; i < FailureLog.PerMinute + 5; i++)
        {
            log.Unhandled(http, new TimeoutException());
        }
        log.Unhandled(http, new InvalidOperationException());
        Assert.That(logs.Entries, Has.Count.EqualTo(FailureLog.PerMinute + 1));

        time.Now += TimeSpan.FromSeconds(61);
        log.Flush();
        log.Unhandled(http, new TimeoutException());
        var last = logs.Entries.Skip(FailureLog.PerMinute + 1).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(last, Has.Count.EqualTo(2));
            Assert.That(last[0].Message, Is.EqualTo("Suppressed 5 identical unhandled System.TimeoutException on /v1/things/{id} in the last minute"));
            Assert.That(last[1].Exception, Is.TypeOf<TimeoutException>());
        });
    }

    /// <summary>Hosts the API with its service connection pointed at a port nobody listens on: every engine call fails for real.</summary>
    private static WebApplicationFactory<Program> Unreachable(CapturedLogs logs) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Platform", "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2");
            b.ConfigureLogging(l => l.AddProvider(logs));
        });

    /// <summary>Gets the entries with an exception that requests wrote (the key change listener's reconnects and the Data Protection key ring's read at start aside).</summary>
    private static List<LogEntry> RequestFailures(CapturedLogs logs) =>
        logs.Entries.Where(e => e.Exception is not null && !e.Category.Contains("Listener", StringComparison.Ordinal)
            && !e.Category.EndsWith("Job", StringComparison.Ordinal)
            && !e.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal)).ToList();

    private static string Describe(CapturedLogs logs) =>
        string.Join("\n", logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Level} {e.Category}: {e.Message} [{e.Exception?.GetType().Name}]"));

    [GeneratedRegex(@"\(request [^ ,)]+, trace [0-9a-f]{32}\)")]
    private static partial Regex RequestAndTrace();

    /// <summary>Is a clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
