using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Platform.Tests.Billing;

/// <summary>Proves Checkout (subscription and credit-pack modes) and the customer portal through Stripe.net against the local fake, and their
/// completion through the signed webhook path; offline they are refused with a problem naming why.</summary>
public sealed class CheckoutTests : DatabaseTest
{
    private const string WebhookSecret = "whsec_checkout_secret";
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
    public async Task Checkout_creates_a_subscription_session_for_the_tenants_customer_with_promotion_codes_dashboard_urls_and_a_key()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);

        using var first = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        var session = await TestApi.ReadAsync(first);
        using var again = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(again, HttpStatusCode.Created);
        var sessionAgain = await TestApi.ReadAsync(again);
        var created = stripe.Requests.Where(r => r.Path == "/v1/checkout/sessions").ToList();

        Assert.Multiple(() =>
        {
            Assert.That((string?)session["id"], Does.StartWith("cs_test_fake"));
            Assert.That((string?)session["url"], Is.EqualTo($"{stripe.BaseUrl}/c/pay/{(string?)session["id"]}"));
            Assert.That((string?)sessionAgain["id"], Is.EqualTo((string?)session["id"]), "the same key answers the same session");
            Assert.That(stripe.Requests.Count(r => r.Path == "/v1/customers"), Is.EqualTo(1));
            Assert.That(created, Has.Count.EqualTo(2));
            Assert.That(created[0].IdempotencyKey, Is.EqualTo($"tenant-{tenant}-checkout-1-professional-monthly"));
            Assert.That(created[0].Authorization, Is.EqualTo("Bearer sk_test_fake"));
            Assert.That(created[0].Form["mode"], Is.EqualTo("subscription"));
            Assert.That(created[0].Form["customer"], Does.StartWith("cus_fake"));
            Assert.That(created[0].Form["client_reference_id"], Is.EqualTo(tenant.ToString()));
            Assert.That(created[0].Form["line_items[0][price]"], Is.EqualTo("price_pro_m"));
            Assert.That(created[0].Form["line_items[0][quantity]"], Is.EqualTo("1"));
            Assert.That(created[0].Form["allow_promotion_codes"], Is.EqualTo("true"));
            Assert.That(created[0].Form["success_url"], Does.EndWith("/billing?checkout=success"));
            Assert.That(created[0].Form["cancel_url"], Does.EndWith("/billing?checkout=cancel"));
            Assert.That(created[0].Form["metadata[plan]"], Is.EqualTo("professional"));
            Assert.That(created[0].Form["subscription_data[metadata][tenant_id]"], Is.EqualTo(tenant.ToString()));
        });
    }

    [Test]
    public async Task A_completed_checkout_completes_the_subscription_once_however_often_it_is_delivered()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        using var started = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(started, HttpStatusCode.Created);
        var sessionId = (string)(await TestApi.ReadAsync(started))["id"]!;
        var customer = stripe.Requests.Single(r => r.Path == "/v1/checkout/sessions").Form["customer"];

        var payload = SubscriptionCheckoutCompleted("evt_cs_1", sessionId, tenant, customer, "sub_checkout_1");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var delivery = await DeliverAsync(payload);
            await TestApi.ExpectAsync(delivery, HttpStatusCode.OK);
            return (string?)(await TestApi.ReadAsync(delivery))["outcome"];
        }));
        // Stripe may send the same completion as another event: it changes nothing.
        var second = SubscriptionCheckoutCompleted("evt_cs_2", sessionId, tenant, customer, "sub_checkout_1");
        using var secondDelivery = await DeliverAsync(second);
        await TestApi.ExpectAsync(secondDelivery, HttpStatusCode.OK);

        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));
        var row = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}"));
        using var again = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" });
        Assert.Multiple(() =>
        {
            Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That(outcomes.Count(o => o == "duplicate"), Is.EqualTo(7));
            Assert.That((string?)summary["plan"], Is.EqualTo("professional"));
            Assert.That((string?)summary["subscription"]!["status"], Is.EqualTo("active"));
            Assert.That((string?)summary["subscription"]!["plan"], Is.EqualTo("professional"));
            Assert.That((string?)summary["subscription"]!["billing_cycle"], Is.EqualTo("monthly"));
            Assert.That((string?)summary["subscription"]!["stripe_subscription_id"], Is.EqualTo("sub_checkout_1"));
            Assert.That((string?)row["plan"], Is.EqualTo("professional"));
        });
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "already_subscribed");
    }

    [Test]
    public async Task An_abandoned_EUR_checkout_fixes_no_currency_but_a_completed_one_fixes_EUR()
    {
        var owner = await TestApi.SignUpAsync();
        var abandoned = await TestApi.CreateTenantAsync(owner, plan: "free");
        var completed = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);

        // Abandoned: the EUR session is never paid, so the tenant subscribes in USD.
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{abandoned}/billing/checkout",
            new { plan = "professional", billing_cycle = "monthly", currency = "eur" }), HttpStatusCode.Created);
        var whileOpen = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{abandoned}/billing"));
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{abandoned}/subscription",
            new { plan = "professional", billing_cycle = "monthly", payment_method_id = "pm_card_visa", currency = "usd" }), HttpStatusCode.OK);

        // Completed: checkout.session.completed fixes the session's currency; a USD change is then 409.
        using var started = await client.PostAsJsonAsync($"/v1/tenants/{completed}/billing/checkout", new { plan = "professional", billing_cycle = "monthly", currency = "eur" });
        await TestApi.ExpectAsync(started, HttpStatusCode.Created);
        var sessionId = (string)(await TestApi.ReadAsync(started))["id"]!;
        var customer = stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions").Form["customer"];
        var beforeCompletion = await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", completed, ("t", completed));
        var payload = SubscriptionCheckoutCompleted("evt_cs_eur_" + Guid.NewGuid().ToString("N"), sessionId, completed, customer, "sub_checkout_eur", "eur");
        await TestApi.ExpectAsync(await DeliverAsync(payload), HttpStatusCode.OK);
        using var usd = await client.PostAsJsonAsync($"/v1/tenants/{completed}/subscription", new { plan = "enterprise", billing_cycle = "monthly", currency = "usd" });
        await TestApi.ExpectProblemAsync(usd, HttpStatusCode.Conflict, "billing_currency_fixed");
        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{completed}/billing"));

        Assert.Multiple(async () =>
        {
            Assert.That((bool?)whileOpen["currency_fixed"], Is.False, "an open Checkout session fixes nothing");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", abandoned, ("t", abandoned)), Is.EqualTo("usd"));
            Assert.That(stripe.Requests.Single(r => r.Path == "/v1/subscriptions").Form["items[0][price]"], Is.EqualTo("price_pro_m"), "the USD price");
            Assert.That(beforeCompletion, Is.Null);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", completed, ("t", completed)), Is.EqualTo("eur"));
            Assert.That((string?)summary["currency"], Is.EqualTo("eur"));
            Assert.That((bool?)summary["currency_fixed"], Is.True);
            Assert.That((string?)summary["subscription"]!["stripe_subscription_id"], Is.EqualTo("sub_checkout_eur"));
        });
    }

    [Test]
    public async Task The_portal_answers_a_session_url_for_admins_returning_to_the_dashboard()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var admin = await TestApi.MemberAsync(tenant, "admin");
        var viewer = await TestApi.MemberAsync(tenant, "viewer");
        var stranger = await TestApi.SignUpAsync();
        await TestApi.CreateTenantAsync(stranger, plan: "free");

        using var response = await Client(admin.Token).PostAsync($"/v1/tenants/{tenant}/billing/portal", null);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var portal = await TestApi.ReadAsync(response);
        using var byOwner = await Client(owner.Token).PostAsync($"/v1/tenants/{tenant}/billing/portal", null);
        await TestApi.ExpectAsync(byOwner, HttpStatusCode.OK);
        var requests = stripe.Requests.Where(r => r.Path == "/v1/billing_portal/sessions").ToList();
        // The billing summary tells the dashboard that Checkout and the portal can be used (ADR 0740).
        using var summary = await Client(admin.Token).GetAsync($"/v1/tenants/{tenant}/billing");
        await TestApi.ExpectAsync(summary, HttpStatusCode.OK);
        Assert.That((bool?)(await TestApi.ReadAsync(summary))["online_billing"], Is.True);

        Assert.Multiple(() =>
        {
            Assert.That((string?)portal["url"], Does.StartWith(stripe.BaseUrl + "/p/session/bps_fake"));
            Assert.That(requests, Has.Count.EqualTo(2));
            Assert.That(requests[0].Form["customer"], Does.StartWith("cus_fake"));
            Assert.That(requests[1].Form["customer"], Is.EqualTo(requests[0].Form["customer"]), "the tenant's customer is reused");
            Assert.That(requests[0].Form["return_url"], Does.EndWith("/billing"));
            Assert.That(stripe.Requests.Count(r => r.Path == "/v1/customers"), Is.EqualTo(1));
        });
        await TestApi.ExpectProblemAsync(await Client(viewer.Token).PostAsync($"/v1/tenants/{tenant}/billing/portal", null), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await Client(stranger.Token).PostAsync($"/v1/tenants/{tenant}/billing/portal", null), HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(await Client(admin.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" }),
            HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await Client(stranger.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/credits/checkout", new { pack = "credits_500" }),
            HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task A_pack_bought_through_checkout_is_credited_once_on_completion()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        // A EUR tenant pays the pack's euro price (ADR 0777).
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET billing_currency = 'eur' WHERE id = @t", tenant, ("t", tenant));
        var client = Client(owner.Token);
        using var started = await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/checkout", new { pack = "credits_500" });
        await TestApi.ExpectAsync(started, HttpStatusCode.Created);
        var checkout = await TestApi.ReadAsync(started);
        var purchaseId = (string)checkout["purchase"]!["id"]!;
        var request = stripe.Requests.Single(r => r.Path == "/v1/checkout/sessions");
        var before = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));

        var unpaid = PackCheckoutCompleted("evt_pack_0", (string)checkout["checkout_session_id"]!, tenant, purchaseId, "unpaid");
        await TestApi.ExpectAsync(await DeliverAsync(unpaid), HttpStatusCode.OK);
        var whileUnpaid = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var paid = PackCheckoutCompleted("evt_pack_1", (string)checkout["checkout_session_id"]!, tenant, purchaseId, "paid");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var delivery = await DeliverAsync(paid);
            await TestApi.ExpectAsync(delivery, HttpStatusCode.OK);
            return (string?)(await TestApi.ReadAsync(delivery))["outcome"];
        }));
        // The PaymentIntent's own success event carries the same purchase id: it credits nothing more.
        var intentEvent = "{\"id\":\"evt_pack_pi\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
            + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":{\"id\":\"pi_from_checkout\",\"object\":\"payment_intent\",\"amount\":700,\"currency\":\"eur\","
            + "\"status\":\"succeeded\",\"metadata\":{\"tenant_id\":\"" + tenant + "\",\"credit_purchase_id\":\"" + purchaseId + "\"}}}}";
        await TestApi.ExpectAsync(await DeliverAsync(intentEvent), HttpStatusCode.OK);

        var after = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var ledger = (await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits/transactions")))["data"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That((string?)checkout["purchase"]!["status"], Is.EqualTo("pending"));
            Assert.That((string?)checkout["url"], Does.StartWith(stripe.BaseUrl + "/c/pay/cs_test_fake"));
            Assert.That(request.Form["mode"], Is.EqualTo("payment"));
            Assert.That(request.IdempotencyKey, Is.EqualTo($"credit-purchase-{purchaseId}-checkout"));
            Assert.That(request.Form["line_items[0][price_data][unit_amount]"], Is.EqualTo("700"));
            Assert.That(request.Form["line_items[0][price_data][currency]"], Is.EqualTo("eur"));
            Assert.That(request.Form["payment_intent_data[metadata][credit_purchase_id]"], Is.EqualTo(purchaseId));
            Assert.That((long?)whileUnpaid["balance"], Is.EqualTo((long?)before["balance"]));
            Assert.That(outcomes.Count(o => o == "processed"), Is.EqualTo(1));
            Assert.That((long?)after["balance"], Is.EqualTo((long?)before["balance"] + 500));
            Assert.That(ledger.Count(t => (string?)t!["type"] == "purchase"), Is.EqualTo(1));
            Assert.That((string?)ledger.Single(t => (string?)t!["type"] == "purchase")!["stripe_payment_id"], Is.EqualTo("pi_from_checkout"));
        });
    }

    [Test]
    public async Task A_pack_is_priced_in_the_tenant_s_currency_through_checkout_and_a_payment_intent()
    {
        var owner = await TestApi.SignUpAsync();
        var usdTenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var eurTenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);
        // The EUR tenant chose euros at its first subscription; the other has chosen nothing and pays in the installation's currency (usd).
        await TestApi.ExpectAsync(await client.PostAsJsonAsync($"/v1/tenants/{eurTenant}/subscription",
            new { plan = "starter", billing_cycle = "monthly", payment_method_id = "pm_card_visa", currency = "eur" }), HttpStatusCode.OK);

        using var usdCheckout = await client.PostAsJsonAsync($"/v1/tenants/{usdTenant}/credits/checkout", new { pack = "credits_500" });
        await TestApi.ExpectAsync(usdCheckout, HttpStatusCode.Created);
        var usdPurchase = (await TestApi.ReadAsync(usdCheckout))["purchase"]!;
        var usdSession = stripe.Requests.Single(r => r.Path == "/v1/checkout/sessions");
        using var eurCheckout = await client.PostAsJsonAsync($"/v1/tenants/{eurTenant}/credits/checkout", new { pack = "credits_500" });
        await TestApi.ExpectAsync(eurCheckout, HttpStatusCode.Created);
        var eurSession = stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions");
        using var usdIntent = await client.PostAsJsonAsync($"/v1/tenants/{usdTenant}/credits/purchase", new { pack = "credits_100" });
        await TestApi.ExpectAsync(usdIntent, HttpStatusCode.Created);
        var intent = stripe.Requests.Single(r => r.Path == "/v1/payment_intents");

        Assert.Multiple(async () =>
        {
            Assert.That(usdSession.Form["line_items[0][price_data][currency]"], Is.EqualTo("usd"));
            Assert.That(usdSession.Form["line_items[0][price_data][unit_amount]"], Is.EqualTo("770"));
            Assert.That((long?)usdPurchase["amount_cents"], Is.EqualTo(770));
            Assert.That((string?)usdPurchase["currency"], Is.EqualTo("usd"));
            Assert.That(eurSession.Form["line_items[0][price_data][currency]"], Is.EqualTo("eur"));
            Assert.That(eurSession.Form["line_items[0][price_data][unit_amount]"], Is.EqualTo("700"));
            Assert.That(intent.Form["currency"], Is.EqualTo("usd"));
            Assert.That(intent.Form["amount"], Is.EqualTo("220"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT billing_currency FROM tenants WHERE id = @t", usdTenant, ("t", usdTenant)), Is.Null,
                "buying a pack fixes no currency");
        });
    }

    [Test]
    public async Task Bad_input_gets_problem_details_and_reaches_no_Stripe()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = Client(owner.Token);

        await TestApi.ExpectProblemAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "free", billing_cycle = "monthly" }),
            HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "weekly" }),
            HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/checkout", new { pack = "credits_9" }),
            HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var notJson = await client.PostAsync($"/v1/tenants/{tenant}/billing/checkout", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        Assert.That((int)notJson.StatusCode, Is.EqualTo(400));
        Assert.That(stripe.Requests, Is.Empty);
    }

    [Test]
    public async Task Offline_every_checkout_and_the_portal_are_refused_naming_why()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var client = TestApi.Client(owner.Token);

        var checkout = await TestApi.ExpectProblemAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/billing/checkout", new { plan = "professional", billing_cycle = "monthly" }),
            HttpStatusCode.Conflict, "billing_offline");
        await TestApi.ExpectProblemAsync(await client.PostAsync($"/v1/tenants/{tenant}/billing/portal", null), HttpStatusCode.Conflict, "billing_offline");
        await TestApi.ExpectProblemAsync(await client.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/checkout", new { pack = "credits_500" }), HttpStatusCode.Conflict, "billing_offline");
        var credits = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/credits"));
        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));

        Assert.That((string?)checkout["detail"], Does.Contain("Stripe:SecretKey"));
        Assert.That((bool?)summary["online_billing"], Is.False, "the billing summary tells the dashboard to use the offline path");
        Assert.That((long?)credits["balance"], Is.EqualTo(10), "nothing was bought");
    }

    private static string SubscriptionCheckoutCompleted(string eventId, string sessionId, Guid tenant, string customer, string subscriptionId, string? currency = null) =>
        "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"type\":\"checkout.session.completed\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":{\"id\":\"" + sessionId + "\",\"object\":\"checkout.session\",\"mode\":\"subscription\","
        + "\"status\":\"complete\",\"payment_status\":\"paid\",\"customer\":\"" + customer + "\",\"client_reference_id\":\"" + tenant + "\",\"subscription\":\"" + subscriptionId
        + "\",\"metadata\":{\"tenant_id\":\"" + tenant + "\",\"plan\":\"professional\",\"cycle\":\"monthly\""
        + (currency is null ? "" : ",\"currency\":\"" + currency + "\"") + "}}}}";

    private static string PackCheckoutCompleted(string eventId, string sessionId, Guid tenant, string purchaseId, string paymentStatus) =>
        "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"type\":\"checkout.session.completed\",\"created\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds()
        + ",\"api_version\":\"2025-01-01\",\"livemode\":false,\"data\":{\"object\":{\"id\":\"" + sessionId + "\",\"object\":\"checkout.session\",\"mode\":\"payment\","
        + "\"status\":\"complete\",\"payment_status\":\"" + paymentStatus + "\",\"payment_intent\":\"pi_from_checkout\",\"client_reference_id\":\"" + tenant
        + "\",\"metadata\":{\"tenant_id\":\"" + tenant + "\",\"credit_purchase_id\":\"" + purchaseId + "\"}}}}";

    /// <summary>Signs a payload with Stripe's scheme and posts it to the webhook receiver.</summary>
    private async Task<HttpResponseMessage> DeliverAsync(string payload)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(WebhookSecret), System.Text.Encoding.UTF8.GetBytes($"{t}.{payload}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook")
        {
            Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Stripe-Signature", $"t={t},v1={Convert.ToHexStringLower(mac)}");
        return await online.CreateClient().SendAsync(request);
    }

    private HttpClient Client(string token)
    {
        var client = online.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
