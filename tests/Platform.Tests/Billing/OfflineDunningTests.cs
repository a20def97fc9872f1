using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Billing;

/// <summary>Proves offline dunning from overdue invoices: an unpaid open invoice past its due date makes the subscription (or the tenant) past_due once,
/// under several job copies, from the due date's start; the dunning job suspends after the grace period and marking the invoice paid lifts it.</summary>
public sealed class OfflineDunningTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    [Test]
    public async Task Five_job_copies_mark_each_tenant_with_an_overdue_invoice_past_due_exactly_once_and_leave_not_yet_due_and_paid_invoices_alone()
    {
        var now = DateTimeOffset.UtcNow;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var overdue = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            overdue.Add(await TenantWithUsageAsync(subscribe: true));
        }
        var notYetDue = await TenantWithUsageAsync(subscribe: true);
        var paid = await TenantWithUsageAsync(subscribe: true);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        foreach (var tenant in overdue)
        {
            await SetDueAsync(tenant, today.AddDays(-2));
        }
        await SetDueAsync(notYetDue, today);
        await SetDueAsync(paid, today.AddDays(-2));
        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET status = 'paid', paid_at = now() WHERE tenant_id = @t", paid, ("t", paid));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));

        var counts = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new MarkOverdueInvoices());
        }));
        var again = await SendAsync(engines, new MarkOverdueInvoices());

        var dueStart = new DateTimeOffset(today.AddDays(-2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        Assert.Multiple(async () =>
        {
            Assert.That(counts.Sum(), Is.EqualTo(3));
            Assert.That(again, Is.Zero);
            foreach (var tenant in overdue)
            {
                Assert.That(await TenantFieldAsync(tenant, "status"), Is.EqualTo("past_due"));
                Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions WHERE status <> 'canceled'", tenant), Is.EqualTo("past_due"));
                Assert.That(await OwnerSql.ScalarAsync<DateTime>("SELECT past_due_since FROM subscriptions WHERE status <> 'canceled'", tenant),
                    Is.EqualTo(dueStart.UtcDateTime));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.past_due' AND actor_type = 'system'", tenant), Is.EqualTo(1));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed' AND actor_type = 'system'", tenant), Is.EqualTo(1));
            }
            foreach (var tenant in new[] { notYetDue, paid })
            {
                Assert.That(await TenantFieldAsync(tenant, "status"), Is.EqualTo("active"));
                Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions WHERE status <> 'canceled'", tenant), Is.EqualTo("active"));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.past_due'", tenant), Is.Zero);
            }
        });
    }

    [Test]
    public async Task Without_a_subscription_the_tenant_itself_becomes_past_due_once()
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = await TenantWithUsageAsync(subscribe: false);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        await SetDueAsync(tenant, DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));

        var first = await SendAsync(engines, new MarkOverdueInvoices());
        var second = await SendAsync(engines, new MarkOverdueInvoices());

        Assert.Multiple(async () =>
        {
            Assert.That(first, Is.EqualTo(1));
            Assert.That(second, Is.Zero);
            Assert.That(await TenantFieldAsync(tenant, "status"), Is.EqualTo("past_due"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed' AND actor_type = 'system'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Past_the_grace_period_the_tenant_is_suspended_and_marking_the_invoice_paid_makes_it_active_again()
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = await TenantWithUsageAsync(subscribe: true);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        await SetDueAsync(tenant, DateOnly.FromDateTime(now.UtcDateTime).AddDays(-10));
        var invoice = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));

        var marked = await SendAsync(engines, new MarkOverdueInvoices());
        var suspended = await SendAsync(engines, new SuspendOverdueTenants());
        var statusWhileUnpaid = await TenantFieldAsync(tenant, "status");
        var reasonWhileUnpaid = await TenantFieldAsync(tenant, "suspended_reason");
        var (_, op) = await OperatorTestSupport.SignedInAsync("billing");
        using var pay = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "bank_transfer" });
        await TestApi.ExpectAsync(pay, HttpStatusCode.Created);

        Assert.Multiple(async () =>
        {
            Assert.That(marked, Is.EqualTo(1));
            Assert.That(suspended, Is.EqualTo(1));
            Assert.That(statusWhileUnpaid, Is.EqualTo("suspended"));
            Assert.That(reasonWhileUnpaid, Is.EqualTo(BillingLifecycle.DunningReason));
            Assert.That(await TenantFieldAsync(tenant, "status"), Is.EqualTo("active"));
            Assert.That(await TenantFieldAsync(tenant, "suspended_reason"), Is.Null);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions WHERE status <> 'canceled'", tenant), Is.EqualTo("active"));
            Assert.That(await OwnerSql.ScalarAsync<object>("SELECT past_due_since FROM subscriptions WHERE status <> 'canceled'", tenant), Is.Null);
            Assert.That(await SendAsync(engines, new MarkOverdueInvoices()), Is.Zero, "a paid invoice is no longer overdue");
        });
    }

    [Test]
    public async Task Without_a_subscription_the_grace_counts_from_the_due_date_and_marking_the_invoice_paid_lifts_the_suspension()
    {
        var now = DateTimeOffset.UtcNow;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var overdue = await TenantWithUsageAsync(subscribe: false);
        var withinGrace = await TenantWithUsageAsync(subscribe: false);
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        await SetDueAsync(overdue, today.AddDays(-8));
        await SetDueAsync(withinGrace, today.AddDays(-6));
        var invoice = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t", overdue, ("t", overdue));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));
        var marked = await SendAsync(engines, new MarkOverdueInvoices());

        var suspended = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new SuspendOverdueTenants());
        }));
        var reasonWhileUnpaid = await TenantFieldAsync(overdue, "suspended_reason");
        var (_, op) = await OperatorTestSupport.SignedInAsync("billing");
        using var pay = await op.PostAsJsonAsync($"/v1/admin/tenants/{overdue}/invoices/{invoice}/mark-paid", new { reason_code = "bank_transfer" });
        await TestApi.ExpectAsync(pay, HttpStatusCode.Created);

        Assert.Multiple(async () =>
        {
            Assert.That(marked, Is.EqualTo(2));
            Assert.That(suspended.Sum(), Is.EqualTo(1));
            Assert.That(reasonWhileUnpaid, Is.EqualTo(BillingLifecycle.DunningReason));
            Assert.That(await TenantFieldAsync(overdue, "status"), Is.EqualTo("active"));
            Assert.That(await TenantFieldAsync(overdue, "suspended_reason"), Is.Null);
            Assert.That(await TenantFieldAsync(withinGrace, "status"), Is.EqualTo("past_due"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed' AND actor_type = 'system'", overdue), Is.EqualTo(2),
                "one row for past_due, one for the suspension");
        });
    }

    /// <summary>Makes a tenant (subscribed offline to professional, or on free) that used 2,000,000 API calls in October 2026, so closing October invoices it.</summary>
    private static async Task<Guid> TenantWithUsageAsync(bool subscribe)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        if (subscribe)
        {
            using var subscribed = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" });
            await TestApi.ExpectAsync(subscribed, HttpStatusCode.OK);
        }
        await PutUsageAsync(tenant, October, "api_calls", 2_000_000);
        return tenant;
    }

    private static Task SetDueAsync(Guid tenant, DateOnly due) =>
        OwnerSql.ScalarAsync<object>("UPDATE invoices SET due_date = @d WHERE tenant_id = @t", tenant, ("d", due), ("t", tenant));

    private static Task<string?> TenantFieldAsync(Guid tenant, string column) =>
        OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM tenants WHERE id = @t", tenant, ("t", tenant));

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
