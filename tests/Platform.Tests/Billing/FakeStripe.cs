using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Tests.Billing;

/// <summary>Answers the Stripe endpoints billing calls in Stripe's JSON wire format on 127.0.0.1, replays a response for a repeated idempotency key as Stripe does, and records every request.</summary>
public sealed class FakeStripe : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentDictionary<string, string> responsesByKey = new();
    private int counter;

    public FakeStripe()
    {
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(BaseUrl + "/");
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    public ConcurrentQueue<RecordedStripeRequest> Requests { get; } = new();

    public void Dispose() => listener.Close();

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => p.Length > 1 ? WebUtility.UrlDecode(p[1]) : "");
            var key = context.Request.Headers["Idempotency-Key"];
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue(new RecordedStripeRequest(context.Request.HttpMethod, path, key, context.Request.Headers["Authorization"], form));

            var json = key is null ? Answer(path, form) : responsesByKey.GetOrAdd(context.Request.HttpMethod + path + key, _ => Answer(path, form));
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = json.Contains("\"error\"", StringComparison.Ordinal) ? 404 : 200;
            context.Response.ContentType = "application/json";
            context.Response.Headers["Request-Id"] = "req_fake_" + Interlocked.Increment(ref counter);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private string Answer(string path, IReadOnlyDictionary<string, string> form)
    {
        var n = Interlocked.Increment(ref counter);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return path switch
        {
            "/v1/customers" => $$"""{"id":"cus_fake{{n}}","object":"customer","created":{{now}},"livemode":false,"name":"{{form.GetValueOrDefault("name")}}"}""",
            "/v1/subscriptions" => $$$"""
                {"id":"sub_fake{{{n}}}","object":"subscription","status":"active","customer":"{{{form.GetValueOrDefault("customer")}}}","created":{{{now}}},"livemode":false,
                 "cancel_at_period_end":false,"items":{"object":"list","has_more":false,"url":"/v1/subscription_items","data":[
                 {"id":"si_fake{{{n}}}","object":"subscription_item","current_period_start":{{{now}}},"current_period_end":{{{now + 2_592_000}}},
                  "price":{"id":"{{{form.GetValueOrDefault("items[0][price]")}}}","object":"price"}}]}}
                """,
            "/v1/payment_intents" => $$"""
                {"id":"pi_fake{{n}}","object":"payment_intent","amount":{{form.GetValueOrDefault("amount")}},"currency":"{{form.GetValueOrDefault("currency")}}",
                 "status":"requires_payment_method","client_secret":"pi_fake{{n}}_secret_x","livemode":false,"created":{{now}}}
                """,
            _ => """{"error":{"type":"invalid_request_error","message":"Unrecognized request URL."}}""",
        };
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>Is one request the fake Stripe received: verb, path, idempotency key, authorization and form fields.</summary>
public sealed record RecordedStripeRequest(string Method, string Path, string? IdempotencyKey, string? Authorization, IReadOnlyDictionary<string, string> Form);
