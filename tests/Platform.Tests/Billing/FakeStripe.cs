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
    private readonly ConcurrentDictionary<string, FakeSubscription> subscriptions = new();
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

            var method = context.Request.HttpMethod;
            var json = key is null ? Answer(method, path, form) : responsesByKey.GetOrAdd(method + path + key, _ => Answer(method, path, form));
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = json.Contains("\"error\"", StringComparison.Ordinal) ? 404 : 200;
            context.Response.ContentType = "application/json";
            context.Response.Headers["Request-Id"] = "req_fake_" + Interlocked.Increment(ref counter);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private string Answer(string method, string path, IReadOnlyDictionary<string, string> form)
    {
        var n = Interlocked.Increment(ref counter);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (path.StartsWith("/v1/subscriptions/", StringComparison.Ordinal))
        {
            return SubscriptionAnswer(method, path["/v1/subscriptions/".Length..], form, now);
        }
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

    /// <summary>Answers GET, POST (update) and DELETE (cancel) of one subscription, keeping its price and cancel flag as the requests set them.</summary>
    private string SubscriptionAnswer(string method, string id, IReadOnlyDictionary<string, string> form, long now)
    {
        var state = subscriptions.GetOrAdd(id, _ => new FakeSubscription());
        lock (state)
        {
            if (method == "POST")
            {
                state.Price = form.GetValueOrDefault("items[0][price]") ?? state.Price;
                state.CancelAtPeriodEnd = form.TryGetValue("cancel_at_period_end", out var flag) ? flag == "true" : state.CancelAtPeriodEnd;
            }
            else if (method == "DELETE")
            {
                state.Status = "canceled";
            }
            return $$$"""
                {"id":"{{{id}}}","object":"subscription","status":"{{{state.Status}}}","created":{{{now}}},"livemode":false,
                 "cancel_at_period_end":{{{(state.CancelAtPeriodEnd ? "true" : "false")}}},"items":{"object":"list","has_more":false,"url":"/v1/subscription_items","data":[
                 {"id":"si_{{{id}}}","object":"subscription_item","current_period_start":{{{now}}},"current_period_end":{{{now + 2_592_000}}},
                  "price":{"id":"{{{state.Price}}}","object":"price"}}]}}
                """;
        }
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

/// <summary>Is the fake's state of one subscription: price, status and cancel flag.</summary>
internal sealed class FakeSubscription
{
    public string Price { get; set; } = "price_unknown";
    public string Status { get; set; } = "active";
    public bool CancelAtPeriodEnd { get; set; }
}
