using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Credits;
using Platform.Engines.Operators;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Tests.Billing;
using Platform.Tests.Operators;

namespace Platform.Tests.Credits;

/// <summary>Proves operators' credit corrections as founder actions (ADR 0650): adjustments (+/-) with a reason, reversible, never below zero under
/// parallel requests (exact count, balance == ledger sum); refunds of a purchase once, in Stripe through Stripe.net when paid online; bad input is a problem.</summary>
public sealed class CreditCorrectionTests : DatabaseTest
{
    [Test]
    public async Task An_adjustment_is_an_audited_founder_action_and_its_reversal_books_the_opposite()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var (billing, billingClient) = await OperatorTestSupport.SignedInAsync("billing");
        var (_, superClient) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var add = await billingClient.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments",
            new { amount = 40, reason_code = "goodwill", reason_note = "outage on the 3rd" });
        await TestApi.ExpectAsync(add, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(add);
        using var take = await billingClient.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = -5, reason_code = "correction" });
        await TestApi.ExpectAsync(take, HttpStatusCode.Created);
        using var tooMuch = await billingClient.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = -1000, reason_code = "correction" });
        await TestApi.ExpectProblemAsync(tooMuch, HttpStatusCode.Conflict, "insufficient_credits");
        var beforeReversal = await BalanceAsync(tenant);
        using var reverse = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "mistake" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);

        var ledger = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/credits/transactions"));
        Assert.Multiple(async () =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("credits.adjust"));
            Assert.That((Guid?)action["operator_id"], Is.EqualTo(billing.Id));
            Assert.That((bool?)action["reversible"], Is.True);
            Assert.That((string?)action["reason_code"], Is.EqualTo("goodwill"));
            // The free plan's 10, +40, -5: 45; the reversal takes the 40 back.
            Assert.That(beforeReversal, Is.EqualTo(45));
            Assert.That(await BalanceAsync(tenant), Is.EqualTo(5));
            Assert.That(await LedgerSumAsync(tenant), Is.EqualTo(5));
            var rows = ledger["data"]!.AsArray();
            Assert.That(rows.Select(r => ((string?)r!["type"], (long?)r["amount"])),
                Is.EqualTo(new (string?, long?)[] { ("adjustment", -40), ("adjustment", -5), ("adjustment", 40), ("quota_monthly", 10) }));
            Assert.That((string?)rows[0]!["reference"], Is.EqualTo($"reversal:{action["id"]}"));
            Assert.That((string?)rows[2]!["reference"], Is.EqualTo($"action:{action["id"]}"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'credits.adjusted' AND actor_type = 'operator'", tenant), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Of_40_parallel_takes_of_5_credits_from_100_exactly_20_succeed_and_the_balance_is_the_ledger_sum()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing");
        using (var topUp = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 90, reason_code = "setup" }))
        {
            await TestApi.ExpectAsync(topUp, HttpStatusCode.Created);
        }

        var takes = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = -5, reason_code = "correction" });
            return response.StatusCode;
        }));
        // Then grants, takes and usage debits all at once: whatever wins, the balance stays the sum of the ledger and never negative.
        await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            switch (i % 3)
            {
                case 0:
                    using (var r = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 4, reason_code = "goodwill" }))
                    {
                        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Created));
                    }
                    break;
                case 1:
                    using (var r = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = -3, reason_code = "correction" }))
                    {
                        Assert.That(r.StatusCode, Is.AnyOf(HttpStatusCode.Created, HttpStatusCode.Conflict));
                    }
                    break;
                default:
                    try
                    {
                        await SendAsync(new DebitCredits(Caller.System, tenant, 2, $"run-{i}"));
                    }
                    catch (QuotaExceededException)
                    {
                    }
                    break;
            }
        }));

        Assert.Multiple(async () =>
        {
            Assert.That(takes.Count(s => s == HttpStatusCode.Created), Is.EqualTo(20));
            Assert.That(takes.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(20));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM credit_transactions WHERE amount = -5", tenant), Is.EqualTo(20));
            Assert.That(await BalanceAsync(tenant), Is.EqualTo(await LedgerSumAsync(tenant)));
            Assert.That(await BalanceAsync(tenant), Is.GreaterThanOrEqualTo(0));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM credit_transactions WHERE balance_after < 0", tenant), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM credit_accounts WHERE grant_remaining > balance", tenant), Is.Zero);
        });
    }

    [Test]
    public async Task An_offline_purchase_is_refunded_once_and_bad_input_gets_problems()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var other = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync(), plan: "free");
        var ownerClient = TestApi.Client(owner.Token);
        using var bought = await ownerClient.PostAsJsonAsync($"/v1/tenants/{tenant}/credits/purchase", new { pack = "credits_100" });
        await TestApi.ExpectAsync(bought, HttpStatusCode.Created);
        var purchase = (string?)(await TestApi.ReadAsync(bought))["id"];
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing");
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var refundUrl = $"/v1/admin/tenants/{tenant}/credits/purchases/{purchase}/refund";

        using var refund = await client.PostAsJsonAsync(refundUrl, new { reason_code = "customer_request" });
        await TestApi.ExpectAsync(refund, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(refund);
        using var again = await client.PostAsJsonAsync(refundUrl, new { reason_code = "customer_request" });
        using var otherTenants = await client.PostAsJsonAsync($"/v1/admin/tenants/{other}/credits/purchases/{purchase}/refund", new { reason_code = "customer_request" });
        using var unknown = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/purchases/{Guid.NewGuid()}/refund", new { reason_code = "x" });
        using var noReason = await client.PostAsJsonAsync(refundUrl, new { });
        using var noAmount = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { reason_code = "x" });
        using var zero = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 0, reason_code = "x" });
        using var huge = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 5_000_000_000L, reason_code = "x" });
        using var text = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/admin/tenants/{tenant}/credits/adjustments", """{"amount":"ten","reason_code":"x"}"""));
        using var notJson = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/admin/tenants/{tenant}/credits/adjustments", "{amount"));
        using var noTenant = await client.PostAsJsonAsync($"/v1/admin/tenants/{Guid.NewGuid()}/credits/adjustments", new { amount = 5, reason_code = "x" });
        using var forbidden = await viewer.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 5, reason_code = "x" });
        using var asTenantOwner = await ownerClient.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/credits/adjustments", new { amount = 5, reason_code = "x" });

        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "purchase_already_refunded");
        await TestApi.ExpectProblemAsync(otherTenants, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(noReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(noAmount, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(zero, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(huge, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(text, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That((int)notJson.StatusCode, Is.EqualTo(400));
        await TestApi.ExpectProblemAsync(noTenant, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        Assert.That((int)asTenantOwner.StatusCode, Is.EqualTo(401));
        Assert.Multiple(async () =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("credits.refund"));
            Assert.That((bool?)action["reversible"], Is.False);
            Assert.That(await BalanceAsync(tenant), Is.EqualTo(10));
            Assert.That(await LedgerSumAsync(tenant), Is.EqualTo(10));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT amount FROM credit_transactions WHERE type = 'refund'", tenant), Is.EqualTo(-100));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'credits.refunded'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_purchase_paid_online_is_refunded_in_Stripe_once_with_an_idempotency_key()
    {
        using var stripe = new FakeStripe();
        await using var engines = TestEngines.Build(new() { ["Stripe:SecretKey"] = "sk_test_fake", ["Stripe:ApiBase"] = stripe.BaseUrl });
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var purchase = Guid.CreateVersion7();
        await OwnerSql.ScalarAsync<object>(
            """
            INSERT INTO credit_purchases (tenant_id, id, pack, credits, amount_cents, currency, status, stripe_payment_intent_id, created_at, completed_at)
            VALUES (@t, @p, 'credits_300', 300, 500, 'eur', 'succeeded', 'pi_paid_online', now(), now())
            """, tenant, ("t", tenant), ("p", purchase));
        await SendAsync(engines, new GrantCredits(Caller.System, tenant, 300, CreditTransactionType.Purchase, "purchase:" + purchase, "pi_paid_online"));
        var op = await OperatorTestSupport.CreateAsync("billing");
        var caller = Caller.Operator(op.Id, "billing") with { MfaVerified = true };

        var refunds = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            try
            {
                await SendAsync(engines, new PerformFounderAction(caller, FounderActionTypes.RefundCreditPurchase, $"{tenant}/{purchase}", "customer_request", null));
                return "ok";
            }
            catch (ConflictException e)
            {
                return e.Code;
            }
        }));

        var calls = stripe.Requests.Where(r => r.Path == "/v1/refunds").ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(refunds.Count(r => r == "ok"), Is.EqualTo(1));
            Assert.That(refunds.Count(r => r == "purchase_already_refunded"), Is.EqualTo(4));
            Assert.That(calls, Has.Count.EqualTo(1));
            Assert.That(calls[0].Form["payment_intent"], Is.EqualTo("pi_paid_online"));
            Assert.That(calls[0].Form["amount"], Is.EqualTo("500"));
            Assert.That(calls[0].IdempotencyKey, Is.EqualTo($"credit-refund-{purchase}"));
            Assert.That(await OwnerSql.ScalarAsync<long>("SELECT amount FROM credit_transactions WHERE type = 'refund'", tenant), Is.EqualTo(-300));
            Assert.That(await BalanceAsync(tenant), Is.EqualTo(10));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT details->>'stripe_refund_id' FROM founder_actions WHERE action_type = 'credits.refund'"),
                Does.StartWith("re_"));
        });
    }

    private static async Task<T> SendAsync<T>(IRequest<T> request) => await SendAsync(TestApi.Services, request);

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    private static Task<long> BalanceAsync(Guid tenant) => OwnerSql.ScalarAsync<long>("SELECT balance FROM credit_accounts", tenant);

    private static Task<long> LedgerSumAsync(Guid tenant) => OwnerSql.ScalarAsync<long>("SELECT coalesce(sum(amount), 0)::bigint FROM credit_transactions", tenant);
}
