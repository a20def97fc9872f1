using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Billing;

/// <summary>Hosts the API online against the local Stripe fake, and builds, signs and delivers Stripe webhook events in Stripe's wire format.</summary>
public abstract class OnlineBillingTest : DatabaseTest
{
    protected const string WebhookSecret = "whsec_lifecycle_secret";
    protected const string ProMonthly = "price_pro_m";
    protected const string StarterMonthly = "price_starter_m";
    protected const string EnterpriseMonthly = "price_ent_m";

    protected FakeStripe Stripe { get; private set; } = null!;

    protected WebApplicationFactory<Program> Online { get; private set; } = null!;

    /// <summary>Gets a Stripe time well inside the past, from which tests count event times in seconds.</summary>
    protected static DateTimeOffset T0 { get; } = DateTimeOffset.UtcNow.AddHours(-1);

    [SetUp]
    public void StartOnlineApi()
    {
        Stripe = new FakeStripe();
        Online = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Stripe:SecretKey", "sk_test_fake");
            b.UseSetting("Stripe:ApiBase", Stripe.BaseUrl);
            b.UseSetting("Stripe:Prices:professional_monthly", ProMonthly);
            b.UseSetting("Stripe:Prices:starter_monthly", StarterMonthly);
            b.UseSetting("Stripe:Prices:enterprise_monthly", EnterpriseMonthly);
            b.UseSetting("Stripe:WebhookSecret", WebhookSecret);
        });
    }

    [TearDown]
    public void StopOnlineApi()
    {
        Online.Dispose();
        Stripe.Dispose();
    }

    protected HttpClient Client(string token)
    {
        var client = Online.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates a tenant and subscribes it online to professional monthly; returns the tenant, its owner's client and the Stripe ids.</summary>
    protected async Task<Subscribed> SubscribedTenantAsync(string? billingEmail = null)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        if (billingEmail is not null)
        {
            using var patch = await client.PatchAsJsonAsync($"/v1/tenants/{tenant}", new { billing_email = billingEmail });
            await TestApi.ExpectAsync(patch, HttpStatusCode.OK);
        }
        using var response = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        var customerId = await OwnerSql.ScalarAsync<string>("SELECT customer_id FROM stripe_customers", tenant);
        return new Subscribed(tenant, client, (string)body["stripe_subscription_id"]!, customerId!, owner);
    }

    /// <summary>Builds a customer.subscription.* event; the price names our plan; tenant metadata is left out when tenant is null.</summary>
    protected static string SubscriptionEvent(string eventId, string type, int at, string subscriptionId, string customerId, Guid? tenant, string status,
        string price = ProMonthly, bool cancelAtPeriodEnd = false, int periodStart = 0, int periodEnd = 30 * 86_400) =>
        Event(eventId, type, at,
            "{\"id\":\"" + subscriptionId + "\",\"object\":\"subscription\",\"status\":\"" + status + "\",\"customer\":\"" + customerId
            + "\",\"cancel_at_period_end\":" + (cancelAtPeriodEnd ? "true" : "false") + ",\"created\":" + Unix(0) + ",\"livemode\":false,"
            + "\"metadata\":" + Metadata(tenant) + ",\"items\":{\"object\":\"list\",\"has_more\":false,\"url\":\"/v1/subscription_items\",\"data\":[{\"id\":\"si_"
            + subscriptionId + "\",\"object\":\"subscription_item\",\"current_period_start\":" + Unix(periodStart) + ",\"current_period_end\":" + Unix(periodEnd)
            + ",\"price\":{\"id\":\"" + price + "\",\"object\":\"price\",\"recurring\":{\"interval\":\"month\",\"interval_count\":1}}}]}}");

    /// <summary>Builds an invoice.paid or invoice.payment_failed event of a subscription's invoice.</summary>
    protected static string InvoiceEvent(string eventId, string type, int at, string invoiceId, string subscriptionId, string customerId, Guid? tenant, long amountDue = 19_900) =>
        Event(eventId, type, at,
            "{\"id\":\"" + invoiceId + "\",\"object\":\"invoice\",\"customer\":\"" + customerId + "\",\"amount_due\":" + amountDue
            + ",\"currency\":\"usd\",\"status\":\"" + (type == "invoice.paid" ? "paid" : "open") + "\",\"livemode\":false,\"metadata\":{},"
            + "\"parent\":{\"type\":\"subscription_details\",\"subscription_details\":{\"subscription\":\"" + subscriptionId + "\",\"metadata\":" + Metadata(tenant) + "}}}");

    /// <summary>Builds a checkout.session.completed event of a subscription-mode session.</summary>
    protected static string CheckoutEvent(string eventId, int at, string sessionId, string customerId, string subscriptionId, Guid tenant) =>
        Event(eventId, "checkout.session.completed", at,
            "{\"id\":\"" + sessionId + "\",\"object\":\"checkout.session\",\"mode\":\"subscription\",\"status\":\"complete\",\"customer\":\"" + customerId
            + "\",\"subscription\":\"" + subscriptionId + "\",\"client_reference_id\":\"" + tenant + "\",\"livemode\":false,\"metadata\":{}}");

    /// <summary>Delivers a payload signed now with the webhook secret and returns the outcome the API answered (processed, duplicate, stale, ignored).</summary>
    protected async Task<string?> DeliverAsync(string payload)
    {
        using var response = await PostWebhookAsync(payload, Sign(payload, DateTimeOffset.UtcNow));
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (string?)(await TestApi.ReadAsync(response))["outcome"];
    }

    /// <summary>Delivers the same payload ten times at once and returns the outcomes.</summary>
    protected async Task<string?[]> DeliverTenTimesAsync(string payload) =>
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => DeliverAsync(payload)));

    protected async Task<HttpResponseMessage> PostWebhookAsync(string payload, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook")
        {
            Content = new StringContent(payload, Encoding.UTF8, "application/json"),
        };
        if (signature is not null)
        {
            request.Headers.Add("Stripe-Signature", signature);
        }
        return await Online.CreateClient().SendAsync(request);
    }

    /// <summary>Signs a payload with Stripe's scheme: t=unix time, v1=hex HMAC-SHA256(secret, "t.payload").</summary>
    protected static string Sign(string payload, DateTimeOffset at, string secret = WebhookSecret)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{payload}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    protected static async Task<string?> TenantFieldAsync(Guid tenant, string column) =>
        await OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM tenants WHERE id = @t", tenant, ("t", tenant));

    protected static async Task<string?> SubscriptionFieldAsync(Guid tenant, string stripeId, string column) =>
        await OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM subscriptions WHERE stripe_subscription_id = @s", tenant, ("s", stripeId));

    protected static Task<long> CountAsync(Guid tenant, string sql, params (string Name, object Value)[] parameters) =>
        OwnerSql.CountAsync(sql, tenant, parameters);

    protected static long Unix(int secondsAfterT0) => T0.ToUnixTimeSeconds() + secondsAfterT0;

    private static string Event(string eventId, string type, int at, string objectJson) =>
        "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"type\":\"" + type + "\",\"created\":" + Unix(at)
        + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":" + objectJson + "}}";

    private static string Metadata(Guid? tenant) => tenant is null ? "{}" : "{\"tenant_id\":\"" + tenant + "\"}";
}

/// <summary>Is a tenant subscribed online: its id, its owner's client, the Stripe subscription and customer ids, and the owner.</summary>
public sealed record Subscribed(Guid Tenant, HttpClient Client, string StripeSubscriptionId, string CustomerId, TestUser Owner);
