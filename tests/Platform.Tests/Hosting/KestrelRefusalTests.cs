using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Platform.Api.Hosting;

namespace Platform.Tests.Hosting;

/// <summary>Checks ADR 0197 against the real Kestrel (TestServer has none): the server's own refusals answer problem details.</summary>
public sealed class KestrelRefusalTests
{
    private WebApplication app = null!;
    private int port;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ApplicationName = typeof(Program).Assembly.GetName().Name });
        builder.Configuration["Platform:MaxRequestBodyBytes"] = "1024";
        // No start-up warm-up: see LiveService.
        builder.Configuration["Platform:WarmUp"] = "false";
        builder.AddPlatformApi();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2));
        app = builder.Build();
        app.UsePlatformApi();
        await app.StartAsync();
        port = new Uri(app.Urls.First()).Port;
    }

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    [Test]
    public async Task A_20_KB_request_line_gets_414_problem_details()
    {
        var (status, type, body) = await SendAsync($"GET /v1/plans?q={new string('a', 20_000)} HTTP/1.1\r\nHost: x\r\n\r\n");
        AssertProblem(status, type, body, 414, "uri_too_long");
    }

    [Test]
    public async Task A_40_KB_header_gets_431_problem_details()
    {
        var (status, type, body) = await SendAsync($"GET /v1/plans HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 40_000)}\r\n\r\n");
        AssertProblem(status, type, body, 431, "request_header_fields_too_large");
    }

    [Test]
    public async Task A_malformed_request_line_gets_400_problem_details()
    {
        var (status, type, body) = await SendAsync("GARBAGE\r\nHost: x\r\n\r\n");
        AssertProblem(status, type, body, 400, "bad_request");
    }

    [Test]
    public async Task A_body_over_the_limit_gets_413_problem_details_by_length_and_chunked()
    {
        var big = new string('a', 4096);
        var (status, type, body) = await SendAsync(
            $"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {big.Length}\r\n\r\n{big}");
        AssertProblem(status, type, body, 413, "payload_too_large");
        (status, type, body) = await SendAsync(
            $"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{big.Length:x}\r\n{big}\r\n0\r\n\r\n");
        AssertProblem(status, type, body, 413, "payload_too_large");
    }

    [Test]
    public async Task A_request_whose_headers_never_finish_gets_408_problem_details()
    {
        var (status, type, body) = await SendAsync("GET /v1/plans HTTP/1.1\r\nHost: x\r\n", wait: TimeSpan.FromSeconds(15));
        AssertProblem(status, type, body, 408, "request_timeout");
    }

    [Test]
    public async Task A_normal_response_passes_through_unchanged()
    {
        var (status, type, body) = await SendAsync("GET /v1/plans HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(200));
            Assert.That(type, Does.StartWith("application/json"));
            Assert.That(JsonNode.Parse(body), Is.Not.Null);
        });
    }

    private static void AssertProblem(int status, string? type, string body, int expected, string code)
    {
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(expected), body);
            Assert.That(body, Does.StartWith("{").And.EndWith("}"), body);
            Assert.That(type, Is.EqualTo("application/problem+json"));
            var problem = JsonNode.Parse(body)!;
            Assert.That((int?)problem["status"], Is.EqualTo(expected));
            Assert.That((string?)problem["code"], Is.EqualTo(code));
            Assert.That((string?)problem["type"], Does.StartWith("https://platform.dev/problems/"));
        });
    }

    /// <summary>Sends raw bytes and reads one response until the server closes or its Content-Length is read.</summary>
    private async Task<(int Status, string? ContentType, string Body)> SendAsync(string request, TimeSpan? wait = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        }
        catch (IOException)
        {
            // Kestrel may answer and close before it has read everything.
        }
        using var timeout = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                break;
            }
            if (n == 0)
            {
                break;
            }
            received.Write(buffer, 0, n);
            var text = Encoding.UTF8.GetString(received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end > 0)
            {
                var length = text[..end].Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                if (length is not null && text.Length - end - 4 >= int.Parse(length[15..].Trim()))
                {
                    break;
                }
                if (length is null && text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        var all = Encoding.UTF8.GetString(received.ToArray());
        var split = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.That(split, Is.GreaterThan(0), "no response: " + all);
        var headLines = all[..split].Split("\r\n");
        var contentType = headLines.FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?[13..].Trim();
        var body = all[(split + 4)..];
        if (headLines.Any(l => l.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            var decoded = new StringBuilder();
            for (var at = 0; ;)
            {
                var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(body[at..lineEnd], 16);
                if (size == 0)
                {
                    break;
                }
                decoded.Append(body, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }
            body = decoded.ToString();
        }
        return (int.Parse(headLines[0].Split(' ')[1]), contentType, body);
    }
}
