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
    private readonly ConcurrentDictionary<string, string> invoices = new();
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

    /// <summary>Gets or sets which requests Stripe refuses, with its error body and HTTP 400 (a refusal is not kept for its idempotency key).</summary>
    public Func<RecordedStripeRequest, bool>? Refuse { get; set; }

    /// <summary>Gets or sets which requests Stripe fails, with the HTTP status and the error body (Stripe's wire format) to answer; a failure is not kept for its
    /// idempotency key, and Stripe-Should-Retry: false is sent so Stripe.net does not retry it.</summary>
    public Func<RecordedStripeRequest, (int Status, string Body)?>? Fail { get; set; }

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
            var recorded = new RecordedStripeRequest(context.Request.HttpMethod, path, key, context.Request.Headers["Authorization"], form);
            Requests.Enqueue(recorded);

            var method = context.Request.HttpMethod;
            if (Fail?.Invoke(recorded) is { } failure)
            {
                var failed = Encoding.UTF8.GetBytes(failure.Body);
                context.Response.StatusCode = failure.Status;
                context.Response.ContentType = "application/json";
                context.Response.Headers["Request-Id"] = "req_fake_" + Interlocked.Increment(ref counter);
                context.Response.Headers["Stripe-Should-Retry"] = "false";
                await context.Response.OutputStream.WriteAsync(failed);
                context.Response.Close();
                continue;
            }
            var refused = Refuse?.Invoke(recorded) == true;
            var json = refused
                ? """{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer: the fake refuses this request."}}"""
                : key is null ? Answer(method, path, form) : responsesByKey.GetOrAdd(method + path + key, _ => Answer(method, path, form));
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = refused ? 400 : json.Contains("\"error\"", StringComparison.Ordinal) ? 404 : 200;
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
        if (path.StartsWith("/v1/invoices/", StringComparison.Ordinal) && path.EndsWith("/finalize", StringComparison.Ordinal))
        {
            return FinalizedInvoiceAnswer(path["/v1/invoices/".Length..^"/finalize".Length], now);
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
            "/v1/invoices" => RememberInvoice($$$"""
                {"id":"in_fake{{{n}}}","object":"invoice","status":"draft","customer":"{{{form.GetValueOrDefault("customer")}}}","currency":"{{{form.GetValueOrDefault("currency")}}}",
                 "collection_method":"{{{form.GetValueOrDefault("collection_method")}}}","auto_advance":{{{form.GetValueOrDefault("auto_advance") ?? "false"}}},
                 "amount_due":0,"created":{{{now}}},"livemode":false,"metadata":{}}
                """, $"in_fake{n}", form),
            "/v1/invoiceitems" => $$$"""
                {"id":"ii_fake{{{n}}}","object":"invoiceitem","amount":{{{form.GetValueOrDefault("amount")}}},"currency":"{{{form.GetValueOrDefault("currency")}}}",
                 "customer":"{{{form.GetValueOrDefault("customer")}}}","invoice":"{{{form.GetValueOrDefault("invoice")}}}","date":{{{now}}},"livemode":false,"metadata":{}}
                """,
            "/v1/payment_intents" => $$"""
                {"id":"pi_fake{{n}}","object":"payment_intent","amount":{{form.GetValueOrDefault("amount")}},"currency":"{{form.GetValueOrDefault("currency")}}",
                 "status":"requires_payment_method","client_secret":"pi_fake{{n}}_secret_x","livemode":false,"created":{{now}}}
                """,
            "/v1/refunds" => $$$"""
                {"id":"re_fake{{{n}}}","object":"refund","amount":{{{form.GetValueOrDefault("amount") ?? "0"}}},"currency":"eur",
                 "payment_intent":"{{{form.GetValueOrDefault("payment_intent")}}}","status":"succeeded","livemode":false,"created":{{{now}}},"metadata":{}}
                """,
            "/v1/checkout/sessions" => $$$"""
                {"id":"cs_test_fake{{{n}}}","object":"checkout.session","mode":"{{{form.GetValueOrDefault("mode")}}}","status":"open","payment_status":"unpaid",
                 "customer":"{{{form.GetValueOrDefault("customer")}}}","client_reference_id":"{{{form.GetValueOrDefault("client_reference_id")}}}",
                 "success_url":"{{{form.GetValueOrDefault("success_url")}}}","cancel_url":"{{{form.GetValueOrDefault("cancel_url")}}}",
                 "allow_promotion_codes":{{{form.GetValueOrDefault("allow_promotion_codes") ?? "false"}}},
                 "url":"{{{BaseUrl}}}/c/pay/cs_test_fake{{{n}}}","livemode":false,"created":{{{now}}},"expires_at":{{{now + 86_400}}},"metadata":{}}
                """,
            "/v1/billing_portal/sessions" => $$$"""
                {"id":"bps_fake{{{n}}}","object":"billing_portal.session","customer":"{{{form.GetValueOrDefault("customer")}}}",
                 "return_url":"{{{form.GetValueOrDefault("return_url")}}}","url":"{{{BaseUrl}}}/p/session/bps_fake{{{n}}}","livemode":false,"created":{{{now}}}}
                """,
            _ => """{"error":{"type":"invalid_request_error","message":"Unrecognized request URL."}}""",
        };
    }

    private string RememberInvoice(string json, string id, IReadOnlyDictionary<string, string> form)
    {
        invoices[id] = form.GetValueOrDefault("customer") ?? "";
        return json;
    }

    /// <summary>Answers the finalization of an invoice: open, amount due = the sum of the items attached to it (one per idempotency key), with a payment intent.</summary>
    private string FinalizedInvoiceAnswer(string id, long now)
    {
        if (!invoices.TryGetValue(id, out var customer))
        {
            return """{"error":{"type":"invalid_request_error","message":"No such invoice."}}""";
        }
        var amount = Requests.Where(r => r.Path == "/v1/invoiceitems" && r.Form.GetValueOrDefault("invoice") == id)
            .DistinctBy(r => r.IdempotencyKey).Sum(r => long.Parse(r.Form["amount"], System.Globalization.CultureInfo.InvariantCulture));
        return $$$"""
            {"id":"{{{id}}}","object":"invoice","status":"open","customer":"{{{customer}}}","currency":"usd","collection_method":"charge_automatically","auto_advance":true,
             "amount_due":{{{amount}}},"created":{{{now}}},"livemode":false,"metadata":{},
             "payments":{"object":"list","has_more":false,"url":"/v1/invoice_payments","data":[
              {"id":"inpay_{{{id}}}","object":"invoice_payment","amount_requested":{{{amount}}},"currency":"usd","is_default":true,"status":"open","livemode":false,"created":{{{now}}},
               "invoice":"{{{id}}}","payment":{"type":"payment_intent","payment_intent":"pi_{{{id}}}"}}]}}
            """;
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
