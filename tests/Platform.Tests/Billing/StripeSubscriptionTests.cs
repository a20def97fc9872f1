using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Billing;

/// <summary>Proves online subscriptions against a local fake of Stripe: the customer is created once per tenant, and every call carries an idempotency key derived from our records.</summary>
public sealed class StripeSubscriptionTests : DatabaseTest
{
    private const string WebhookSecret = "whsec_test_secret";
    private FakeStripe stripe = null!;
    private WebApplicationFactory<Program> online = null!;

    [SetUp]
    public void StartOnlineApi()
    {
        stripe = new FakeStripe();
        online = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Stripe:SecretKey", "sk_test_fake");
            b.UseSetting("Stripe:ApiBase", stripe.BaseUrl);
            b.UseSetting("Stripe:Prices:professional_monthly", "price_pro_m");
            b.UseSetting("Stripe:WebhookSecret", WebhookSecret);
        });
    }

    [TearDown]
    public void StopOnlineApi()
    {
        online.Dispose();
        stripe.Dispose();
    }

    [Test]
    public async Task Subscribing_creates_the_customer_and_the_subscription_in_Stripe_with_idempotency_keys_from_our_records()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);

        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly", payment_method_id = "pm_card_visa" });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var subscription = await TestApi.ReadAsync(response);
        var requests = stripe.Requests.ToList();
        var row = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));

        Assert.Multiple(() =>
        {
            Assert.That(requests.Select(r => (r.Method, r.Path)), Is.EqualTo(new[] { ("POST", "/v1/customers"), ("POST", "/v1/subscriptions") }));
            Assert.That(requests[0].IdempotencyKey, Is.EqualTo($"tenant-{tenant}-customer"));
            Assert.That(requests[0].Form["metadata[tenant_id]"], Is.EqualTo(tenant.ToString()));
            Assert.That(requests[0].Authorization, Is.EqualTo("Bearer sk_test_fake"));
            Assert.That(requests[1].IdempotencyKey, Is.EqualTo($"tenant-{tenant}-subscription-1"));
            Assert.That(requests[1].Form["customer"], Does.StartWith("cus_fake"));
            Assert.That(requests[1].Form["items[0][price]"], Is.EqualTo("price_pro_m"));
            Assert.That(requests[1].Form["default_payment_method"], Is.EqualTo("pm_card_visa"));
            Assert.That(requests[1].Form["metadata[subscription_id]"], Is.EqualTo((string?)subscription["id"]));
            Assert.That((string?)subscription["stripe_subscription_id"], Does.StartWith("sub_fake"));
            Assert.That((string?)row["plan"], Is.EqualTo("professional"));
        });
    }

    [Test]
    public async Task A_second_subscription_reuses_the_customer_and_uses_the_next_key()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" }), HttpStatusCode.OK);

        using var cancel = await client.DeleteAsync($"/v1/tenants/{tenant}/subscription");
        await TestApi.ExpectAsync(cancel, HttpStatusCode.OK);
        using var again = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "starter", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(again, HttpStatusCode.OK);

        Assert.That(stripe.Requests.Count(r => r.Path == "/v1/customers"), Is.EqualTo(1));
        Assert.That(stripe.Requests.Where(r => r.Path == "/v1/subscriptions").Select(r => r.IdempotencyKey),
            Is.EqualTo(new[] { $"tenant-{tenant}-subscription-1", $"tenant-{tenant}-subscription-2" }));
        var row = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        Assert.That((string?)row["plan"], Is.EqualTo("starter"));
    }

    [Test]
    public async Task An_online_pack_purchase_creates_a_payment_intent_and_credits_nothing_until_payment()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        // A EUR tenant pays the pack's euro price (ADR 0777).
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_currency = 'eur' WHERE id = @t", tenant, ("t", tenant));
        var client = Client(owner.Token);

        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_500" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var purchase = await TestApi.ReadAsync(response);
        var intent = stripe.Requests.Single(r => r.Path == "/v1/payment_intents");
        var account = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));

        Assert.Multiple(() =>
        {
            Assert.That((string?)purchase["status"], Is.EqualTo("pending"));
            Assert.That((string?)purchase["client_secret"], Does.StartWith("pi_fake"));
            Assert.That((string?)purchase["stripe_payment_intent_id"], Does.StartWith("pi_fake"));
            Assert.That(intent.IdempotencyKey, Is.EqualTo($"credit-purchase-{(string?)purchase["id"]}"));
            Assert.That(intent.Form["amount"], Is.EqualTo("700"));
            Assert.That(intent.Form["currency"], Is.EqualTo("eur"));
            Assert.That(intent.Form["metadata[credit_purchase_id]"], Is.EqualTo((string?)purchase["id"]));
            Assert.That((long?)account["balance"], Is.EqualTo(10));
        });
    }

    [Test]
    public async Task A_paid_pack_is_credited_once_when_its_event_is_delivered_ten_times_at_once()
    {
        var (tenant, purchaseId, intentId, client) = await PendingPurchaseAsync();
        var payload = PaymentSucceeded("evt_paid_1", tenant, purchaseId, intentId);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var delivery = await DeliverAsync(payload, Sign(payload, DateTimeOffset.UtcNow));
            await TestApi.ExpectAsync(delivery, HttpStatusCode.OK);
            return (string?)(await TestApi.ReadAsync(delivery))["outcome"];
        }));
        // Stripe may also send a second event for the same payment: it credits nothing either.
        var second = PaymentSucceeded("evt_paid_2", tenant, purchaseId, intentId);
        await TestApi.ExpectAsync(await DeliverAsync(second, Sign(second, DateTimeOffset.UtcNow)), HttpStatusCode.OK);

        var account = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var ledger = (await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits/transactions")))["data"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(outcomes.Count(o => o == "duplicate"), Is.EqualTo(9));
            Assert.That((long?)account["balance"], Is.EqualTo(510));
            Assert.That(ledger.Count(t => (string?)t!["type"] == "purchase"), Is.EqualTo(1));
            Assert.That((string?)ledger.Single(t => (string?)t!["type"] == "purchase")!["stripe_payment_id"], Is.EqualTo(intentId));
        });
    }

    [TestCase("missing")]
    [TestCase("wrong_secret")]
    [TestCase("too_old")]
    [TestCase("tampered")]
    public async Task A_webhook_with_a_bad_signature_gets_400_and_changes_nothing(string fault)
    {
        var (tenant, purchaseId, intentId, client) = await PendingPurchaseAsync();
        var payload = PaymentSucceeded("evt_bad", tenant, purchaseId, intentId);
        var signature = fault switch
        {
            "missing" => null,
            "wrong_secret" => Sign(payload, DateTimeOffset.UtcNow, "whsec_other"),
            "too_old" => Sign(payload, DateTimeOffset.UtcNow.AddSeconds(-301)),
            _ => Sign(payload.Replace("evt_bad", "evt_bae", StringComparison.Ordinal), DateTimeOffset.UtcNow),
        };

        using var delivery = await DeliverAsync(payload, signature);

        await TestApi.ExpectProblemAsync(delivery, HttpStatusCode.BadRequest, "invalid_signature");
        var account = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        Assert.That((long?)account["balance"], Is.EqualTo(10));
    }

    [Test]
    public async Task Unknown_event_types_are_answered_200_and_ignored()
    {
        const string payload = """{"id":"evt_x","object":"event","type":"customer.tax_id.created","created":1763900000,"api_version":"2025-01-01","data":{"object":{"id":"txi_1","object":"tax_id"}}}""";

        using var delivery = await DeliverAsync(payload, Sign(payload, DateTimeOffset.UtcNow));

        await TestApi.ExpectAsync(delivery, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(delivery))["outcome"], Is.EqualTo("ignored"));
    }

    private async Task<(Guid Tenant, string PurchaseId, string IntentId, HttpClient Client)> PendingPurchaseAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_500" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        var purchase = await TestApi.ReadAsync(response);
        return (tenant, (string)purchase["id"]!, (string)purchase["stripe_payment_intent_id"]!, client);
    }

    private static string PaymentSucceeded(string eventId, Guid tenant, string purchaseId, string intentId) =>
        "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":{\"id\":\"" + intentId
        + "\",\"object\":\"payment_intent\",\"amount\":700,\"currency\":\"eur\",\"status\":\"succeeded\",\"metadata\":{\"tenant_id\":\"" + tenant
        + "\",\"credit_purchase_id\":\"" + purchaseId + "\"}}}}";

    /// <summary>Signs a payload with Stripe's scheme: t=unix time, v1=hex HMAC-SHA256(secret, "t.payload").</summary>
    private static string Sign(string payload, DateTimeOffset at, string secret = WebhookSecret)
    {
        var t = at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes($"{t}.{payload}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    private async Task<HttpResponseMessage> DeliverAsync(string payload, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook")
        {
            Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
        };
        if (signature is not null)
        {
            request.Headers.Add("Stripe-Signature", signature);
        }
        return await online.CreateClient().SendAsync(request);
    }

    private HttpClient Client(string token)
    {
        var client = online.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
