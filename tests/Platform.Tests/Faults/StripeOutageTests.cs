using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Models;
using Platform.Tests.Billing;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Faults;

/// <summary>Stripe unreachable (nothing listens at its address) while invoices are pushed: nothing is lost, each invoice is pushed again after its
/// back-off once Stripe answers, and each reaches Stripe exactly once (ADR 0661).</summary>
public sealed class StripeOutageTests : OnlineBillingTest
{
    [Test]
    public async Task Invoices_pushed_while_Stripe_is_unreachable_wait_and_each_reaches_Stripe_once_when_it_is_back()
    {
        var tenants = new List<Guid>();
        for (var i = 0; i < 2; i++)
        {
            var owner = await TestApi.SignUpAsync();
            var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
            await using (var online = Engines(Stripe.BaseUrl, new ManualClock(Utc(2026, 9, 20))))
            {
                await SendAsync(online, new SubscribeTenant(Caller.System, tenant, "professional", "monthly", null));
            }
            await PutUsageAsync(tenant, Utc(2026, 10, 1), "api_calls", 1_100_000);
            tenants.Add(tenant);
        }
        await AtAsync(Utc(2026, 11, 2), new CloseBillingPeriod(Caller.System, "2026-10"));
        var clock = new ManualClock(Utc(2026, 11, 3));

        int duringOutage;
        await using (var down = Engines($"http://127.0.0.1:{ServiceProcess.FreePort()}", clock))
        {
            duringOutage = await SendAsync(down, new PushInvoicesToStripe());
        }
        var waiting = await Task.WhenAll(tenants.Select(t => OwnerSql.ScalarAsync<long>(
            "SELECT count(*) FROM invoices WHERE tenant_id = @t AND stripe_invoice_id IS NULL AND stripe_push_attempts = 1 AND stripe_push_error IS NOT NULL", t, ("t", t))));
        clock.Advance(TimeSpan.FromMinutes(5));
        int afterOutage, again;
        await using (var up = Engines(Stripe.BaseUrl, clock))
        {
            afterOutage = await SendAsync(up, new PushInvoicesToStripe());
            clock.Advance(TimeSpan.FromMinutes(5));
            again = await SendAsync(up, new PushInvoicesToStripe());
        }
        var pushed = await Task.WhenAll(tenants.Select(t => OwnerSql.ScalarAsync<long>(
            "SELECT count(*) FROM invoices WHERE tenant_id = @t AND stripe_invoice_id LIKE 'in_%' AND stripe_push_error IS NULL", t, ("t", t))));

        Assert.Multiple(() =>
        {
            Assert.That(duringOutage, Is.Zero);
            Assert.That(waiting, Is.All.EqualTo(1), "each invoice waits with its failed attempt recorded");
            Assert.That(afterOutage, Is.EqualTo(2));
            Assert.That(again, Is.Zero);
            Assert.That(pushed, Is.All.EqualTo(1));
            Assert.That(Stripe.Requests.Count(r => r.Method == "POST" && r.Path == "/v1/invoices"), Is.EqualTo(2), "each invoice created in Stripe once");
        });
    }

    private ServiceProvider Engines(string apiBase, IClock clock) =>
        TestEngines.Build(new() { ["Stripe:SecretKey"] = "sk_test_fake", ["Stripe:ApiBase"] = apiBase }, clock);

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
