using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Billing;

/// <summary>Proves that Stripe's errors, answered by the fake in Stripe's error wire format, reach the caller as clear problems and never as a 500, and that a
/// refused call writes nothing (ADR 0722): a declined card 402, an invalid request 422, an idempotency conflict 409, Stripe's own failure 502, a rate limit
/// and an unreachable API 503 with Retry-After.</summary>
public sealed class StripeErrorTests : OnlineBillingTest
{
    [Test]
    public async Task A_declined_card_is_402_with_Stripe_s_codes_and_leaves_the_tenant_unsubscribed()
    {
        Stripe.Fail = r => r.Path == "/v1/subscriptions"
            ? (402, """{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","param":""}}""")
            : null;
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");

        using var response = await Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription",
            new { plan = "professional", billing_cycle = "monthly", payment_method_id = "pm_card_chargeDeclinedInsufficientFunds" });

        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.PaymentRequired, "payment_declined");
        Assert.Multiple(async () =>
        {
            Assert.That((string?)problem["provider_code"], Is.EqualTo("card_declined"));
            Assert.That((string?)problem["decline_code"], Is.EqualTo("insufficient_funds"));
            Assert.That((string?)problem["detail"], Does.Contain("insufficient funds"));
            Assert.That(await CountAsync(tenant, "SELECT count(*) FROM subscriptions"), Is.Zero);
            Assert.That(await TenantFieldAsync(tenant, "plan"), Is.EqualTo("free"));
        });
    }

    [Test]
    public async Task An_invalid_request_is_422_an_idempotency_conflict_409_and_Stripe_s_failure_502()
    {
        var owner = await TestApi.SignUpAsync();
        var invalid = await TestApi.CreateTenantAsync(owner, plan: "free");
        var conflict = await TestApi.CreateTenantAsync(owner, plan: "free");
        var failing = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        Stripe.Fail = r => r.Path switch
        {
            "/v1/checkout/sessions" when r.Form.GetValueOrDefault("client_reference_id") == invalid.ToString() =>
                (400, """{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such price: 'price_pro_m'","param":"line_items[0][price]"}}"""),
            "/v1/checkout/sessions" when r.Form.GetValueOrDefault("client_reference_id") == conflict.ToString() =>
                (409, """{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}"""),
            "/v1/billing_portal/sessions" => (500, """{"error":{"type":"api_error","message":"An unknown error occurred on Stripe's end."}}"""),
            _ => null,
        };

        using var invalidResponse = await client.PostAsJsonAsync($"/v1/tenants/{invalid}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        using var conflictResponse = await client.PostAsJsonAsync($"/v1/tenants/{conflict}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        using var failingResponse = await client.PostAsync($"/v1/tenants/{failing}/billing/portal", null);

        var invalidProblem = await TestApi.ExpectProblemAsync(invalidResponse, HttpStatusCode.UnprocessableEntity, "payment_request_invalid");
        await TestApi.ExpectProblemAsync(conflictResponse, HttpStatusCode.Conflict, "payment_provider_conflict");
        await TestApi.ExpectProblemAsync(failingResponse, HttpStatusCode.BadGateway, "payment_provider_error");
        Assert.Multiple(async () =>
        {
            Assert.That((string?)invalidProblem["provider_code"], Is.EqualTo("resource_missing"));
            Assert.That((string?)invalidProblem["detail"], Does.Contain("No such price"));
            Assert.That(await CountAsync(invalid, "SELECT count(*) FROM audit_log WHERE action = 'billing.checkout_started'"), Is.Zero, "nothing is written");
            Assert.That(await CountAsync(invalid, "SELECT count(*) FROM stripe_customers"), Is.Zero, "the customer made before the refusal is not kept: the key makes a retry find it");
        });
    }

    [Test]
    public async Task Stripe_unreachable_or_rate_limiting_is_503_with_Retry_After()
    {
        var owner = await TestApi.SignUpAsync();
        var limited = await TestApi.CreateTenantAsync(owner, plan: "free");
        var unreachable = await TestApi.CreateTenantAsync(owner, plan: "free");
        Stripe.Fail = r => r.Path == "/v1/customers" ? (429, """{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}""") : null;
        using var down = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Stripe:SecretKey", "sk_test_fake");
            b.UseSetting("Stripe:ApiBase", $"http://127.0.0.1:{ServiceProcess.FreePort()}");
        });
        var downClient = down.CreateClient();
        downClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        using var limitedResponse = await Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{limited}/subscription", new { plan = "starter", billing_cycle = "monthly" });
        using var downResponse = await downClient.PostAsJsonAsync($"/v1/tenants/{unreachable}/billing/checkout", new { plan = "starter", billing_cycle = "monthly" });

        await TestApi.ExpectProblemAsync(limitedResponse, HttpStatusCode.ServiceUnavailable, "payment_provider_unavailable");
        await TestApi.ExpectProblemAsync(downResponse, HttpStatusCode.ServiceUnavailable, "payment_provider_unavailable");
        Assert.Multiple(async () =>
        {
            Assert.That(limitedResponse.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(downResponse.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(await CountAsync(limited, "SELECT count(*) FROM subscriptions"), Is.Zero);
            Assert.That(await CountAsync(unreachable, "SELECT count(*) FROM stripe_customers"), Is.Zero);
        });
    }
}
