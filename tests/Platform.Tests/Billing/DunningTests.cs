using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Engines.Tenants;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Tests.Billing;

/// <summary>Proves dunning: past_due keeps writes and exposes banner data, the job suspends tenants past the grace period exactly once under several copies,
/// a payment reactivates billing's suspension but never an operator's.</summary>
public sealed class DunningTests : DatabaseTest
{
    [Test]
    public async Task Five_job_copies_suspend_each_overdue_tenant_exactly_once_and_spare_those_within_grace()
    {
        var now = DateTimeOffset.UtcNow;
        var overdue = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            overdue.Add(await PastDueTenantAsync(now.AddDays(-8)));
        }
        var withinGrace = await PastDueTenantAsync(now.AddDays(-6));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));

        var counts = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new SuspendOverdueTenants());
        }));
        var again = await SendAsync(engines, new SuspendOverdueTenants());

        Assert.Multiple(async () =>
        {
            Assert.That(counts.Sum(), Is.EqualTo(4));
            Assert.That(again, Is.Zero);
            foreach (var tenant in overdue)
            {
                Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("suspended"));
                Assert.That(await FieldAsync(tenant, "suspended_reason"), Is.EqualTo(BillingLifecycle.DunningReason));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed' AND actor_type = 'system'", tenant), Is.EqualTo(1));
            }
            Assert.That(await FieldAsync(withinGrace, "status"), Is.EqualTo("past_due"));
        });
    }

    [Test]
    public async Task The_grace_period_comes_from_configuration()
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = await PastDueTenantAsync(now.AddDays(-3));
        await using var engines = TestEngines.Build(new() { ["Billing:DunningGraceDays"] = "2" }, new ManualClock(now));

        Assert.That(await SendAsync(engines, new SuspendOverdueTenants()), Is.EqualTo(1));
        Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("suspended"));
    }

    [Test]
    public async Task A_past_due_tenant_keeps_writing_and_its_billing_summary_carries_past_due_since()
    {
        var since = DateTimeOffset.UtcNow.AddDays(-2);
        var (tenant, owner) = await PastDueTenantWithOwnerAsync(since);
        var client = TestApi.Client(owner.Token);

        using var write = await client.PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "Still here" });
        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));

        await TestApi.ExpectAsync(write, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That((string?)summary["status"], Is.EqualTo("past_due"));
            Assert.That((string?)summary["subscription"]!["status"], Is.EqualTo("past_due"));
            Assert.That((DateTimeOffset?)summary["subscription"]!["past_due_since"], Is.EqualTo(since).Within(TimeSpan.FromSeconds(1)));
        });
    }

    [Test]
    public async Task A_payment_reactivates_a_tenant_suspended_by_dunning()
    {
        var now = DateTimeOffset.UtcNow;
        var (tenant, owner) = await PastDueTenantWithOwnerAsync(now.AddDays(-10));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));
        await SendAsync(engines, new SuspendOverdueTenants());
        using var refused = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "Refused" });

        var reactivated = await SendAsync(engines, new ReactivateAfterPayment(Caller.System, tenant));
        using var allowed = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenant}", new { name = "Allowed" });

        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "tenant_suspended");
        await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
        Assert.Multiple(async () =>
        {
            Assert.That(reactivated.Status.ToString(), Is.EqualTo("Active"));
            Assert.That(await FieldAsync(tenant, "suspended_reason"), Is.Null);
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions WHERE status <> 'canceled'", tenant), Is.EqualTo("active"));
            Assert.That(await OwnerSql.ScalarAsync<object>("SELECT past_due_since FROM subscriptions WHERE status <> 'canceled'", tenant), Is.Null);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'subscription.paid'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_payment_never_lifts_an_operator_suspension_and_the_job_leaves_it_alone()
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = await PastDueTenantAsync(now.AddDays(-10));
        await using var engines = TestEngines.Build(clock: new ManualClock(now));
        await SendAsync(engines, new SuspendTenant(Caller.System, tenant, "fraud review"));

        var suspendedByJob = await SendAsync(engines, new SuspendOverdueTenants());
        var afterPayment = await SendAsync(engines, new ReactivateAfterPayment(Caller.System, tenant));

        Assert.Multiple(async () =>
        {
            Assert.That(suspendedByJob, Is.Zero);
            Assert.That(afterPayment.Status.ToString(), Is.EqualTo("Suspended"));
            Assert.That(afterPayment.SuspendedReason, Is.EqualTo("fraud review"));
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM subscriptions WHERE status <> 'canceled'", tenant), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task Users_cannot_record_payments()
    {
        var (tenant, owner) = await PastDueTenantWithOwnerAsync(DateTimeOffset.UtcNow.AddDays(-1));

        Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(TestApi.Services, new ReactivateAfterPayment(Caller.User(owner.Id), tenant)));

        Assert.That(await FieldAsync(tenant, "status"), Is.EqualTo("past_due"));
    }

    internal static async Task<Guid> PastDueTenantAsync(DateTimeOffset since) => (await PastDueTenantWithOwnerAsync(since)).Tenant;

    /// <summary>Subscribes a new tenant offline to professional and marks the subscription and the tenant past_due since a time, as a failed payment would.</summary>
    internal static async Task<(Guid Tenant, TestUser Owner)> PastDueTenantWithOwnerAsync(DateTimeOffset since)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        using var subscribed = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenant}/subscription", new { plan = "professional", billing_cycle = "monthly" });
        await TestApi.ExpectAsync(subscribed, HttpStatusCode.OK);
        await OwnerSql.ScalarAsync<object>(
            "UPDATE subscriptions SET status = 'past_due', past_due_since = @since; UPDATE tenants SET status = 'past_due' WHERE id = @t",
            tenant, ("since", since), ("t", tenant));
        return (tenant, owner);
    }

    private static Task<string?> FieldAsync(Guid tenant, string column) =>
        OwnerSql.ScalarAsync<string>("SELECT " + column + "::text FROM tenants WHERE id = @t", tenant, ("t", tenant));

    private static async Task<T> SendAsync<T>(IServiceProvider services, IRequest<T> request)
    {
        using var scope = services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
