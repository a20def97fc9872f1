using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Billing;
using Platform.Models;
using Platform.Models.Errors;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Proves the monthly close end to end on the real database: exact pricing, proration by day from the plan history, annual cycles, idempotence and gap-free numbering under concurrent closers.</summary>
public sealed class MonthlyCloseTests : DatabaseTest
{
    private static readonly DateTimeOffset September = Utc(2026, 9, 1);
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);
    private static readonly DateTimeOffset AfterOctober = Utc(2026, 11, 2);

    private static async Task<Guid> TenantAsync(string plan = "free") => await TestApi.CreateTenantAsync(await TestApi.SignUpAsync(), plan: plan);

    [Test]
    public async Task The_seed_example_comes_out_at_exactly_276_30_through_the_real_close()
    {
        var tenant = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 9, 20), tenant, "professional");
        await PutUsageAsync(tenant, October, "api_calls", 1_050_000);
        await PutUsageAsync(tenant, October, "storage_gb", 1_100);
        await PutUsageAsync(tenant, October, "gpu_hours", 210);

        var summary = await CloseAsync("2026-10", AfterOctober);

        var invoice = await InvoiceAsync(tenant, October);
        Assert.Multiple(async () =>
        {
            Assert.That(summary.InvoicesCreated, Is.EqualTo(1));
            Assert.That(summary.CreatedTotalCents, Is.EqualTo(27_630));
            Assert.That(invoice, Is.Not.Null);
            Assert.That(invoice!.Value.Total, Is.EqualTo(27_630));
            Assert.That(invoice.Value.Status, Is.EqualTo("open"));
            Assert.That(await LinesAsync(tenant, October), Is.EqualTo(new[]
            {
                "base - 1/1 x 19900 = 19900",
                "overage api_calls 50000/1 x 0.1 = 5000",
                "overage storage_gb 100/1 x 2.3 = 230",
                "overage gpu_hours 10/1 x 250 = 2500",
            }));
        });
    }

    [Test]
    public async Task An_upgrade_on_the_11th_of_a_30_day_month_charges_10_days_of_the_old_plan_and_20_of_the_new()
    {
        var tenant = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 8, 15), tenant, "starter");
        await SubscribeAtAsync(Utc(2026, 9, 11, 9), tenant, "professional");

        await CloseAsync("2026-09", Utc(2026, 10, 1, 1));

        // 4,900 × 10 / 30 = 1,633.33 -> 1,633; 19,900 × 20 / 30 = 13,266.67 -> 13,267.
        Assert.Multiple(async () =>
        {
            Assert.That(await LinesAsync(tenant, September), Is.EqualTo(new[]
            {
                "proration - 10/30 x 4900 = 1633",
                "proration - 20/30 x 19900 = 13267",
            }));
            Assert.That((await InvoiceAsync(tenant, September))!.Value.Total, Is.EqualTo(14_900));
        });
    }

    [Test]
    public async Task A_downgrade_waits_for_the_period_end_so_the_month_is_charged_at_the_plan_paid_for()
    {
        var tenant = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 8, 15), tenant, "professional");
        await SubscribeAtAsync(Utc(2026, 9, 20), tenant, "starter");
        // The period end applies the pending plan (the lifecycle's job); the trigger records it from updated_at.
        await OwnerSql.ScalarAsync<object>(
            "UPDATE subscriptions SET plan = pending_plan, pending_plan = NULL, updated_at = @at WHERE tenant_id = @t AND pending_plan IS NOT NULL",
            tenant, ("t", tenant), ("at", October));

        await CloseAsync("2026-09", Utc(2026, 10, 1, 1));
        await CloseAsync("2026-10", AfterOctober);

        Assert.Multiple(async () =>
        {
            Assert.That(await LinesAsync(tenant, September), Is.EqualTo(new[] { "base - 1/1 x 19900 = 19900" }));
            Assert.That(await LinesAsync(tenant, October), Is.EqualTo(new[] { "base - 1/1 x 4900 = 4900" }));
        });
    }

    [Test]
    public async Task A_subscription_starting_on_the_16th_pays_15_of_30_days_and_a_cancellation_stops_the_charge()
    {
        var starting = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 9, 16, 10), starting, "starter");
        var cancelling = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 8, 1), cancelling, "professional");
        await AtAsync(Utc(2026, 9, 6, 12), new CancelSubscription(Caller.System, cancelling, false));

        await CloseAsync("2026-09", Utc(2026, 10, 1, 1));

        Assert.Multiple(async () =>
        {
            Assert.That(await LinesAsync(starting, September), Is.EqualTo(new[] { "proration - 15/30 x 4900 = 2450" }));
            // In force at the end of days 1 to 5 only: 19,900 × 5 / 30 = 3,316.67 -> 3,317.
            Assert.That(await LinesAsync(cancelling, September), Is.EqualTo(new[] { "proration - 5/30 x 19900 = 3317" }));
        });
    }

    [Test]
    public async Task An_annual_plan_is_charged_whole_in_the_month_its_year_starts_and_overages_stay_monthly()
    {
        var tenant = await TenantAsync();
        await SubscribeAtAsync(Utc(2026, 9, 5), tenant, "professional", "annual");
        await PutUsageAsync(tenant, October, "gpu_hours", 204);

        await CloseAsync("2026-09", Utc(2026, 10, 1, 1));
        await CloseAsync("2026-10", AfterOctober);

        Assert.Multiple(async () =>
        {
            Assert.That(await LinesAsync(tenant, September), Is.EqualTo(new[] { "base - 1/1 x 199000 = 199000" }));
            Assert.That(await LinesAsync(tenant, October), Is.EqualTo(new[] { "overage gpu_hours 4/1 x 250 = 1000" }));
        });
    }

    [Test]
    public async Task Tenants_with_nothing_to_bill_get_no_invoice_and_free_tenants_pay_their_overage_only()
    {
        var idle = await TenantAsync();
        var trial = await TenantAsync("professional");
        await PutUsageAsync(trial, October, "api_calls", 900_000);
        var busyFree = await TenantAsync();
        await PutUsageAsync(busyFree, October, "api_calls", 10_005);

        var summary = await CloseAsync("2026-10", AfterOctober);

        Assert.Multiple(async () =>
        {
            Assert.That(await InvoiceAsync(idle, October), Is.Null);
            Assert.That(await InvoiceAsync(trial, October), Is.Null, "within the trial plan's quota, and a trial owes no base");
            // 5 calls × 0.1 ¢ = 0.5 ¢, rounded half away from zero -> 1 ¢.
            Assert.That(await LinesAsync(busyFree, October), Is.EqualTo(new[] { "overage api_calls 5/1 x 0.1 = 1" }));
            Assert.That(summary.InvoicesCreated, Is.EqualTo(1));
            // The idle tenant is not even read (no subscription, no usage); the trial tenant is priced at zero.
            Assert.That(summary.NothingToBill, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Closing_a_month_twice_creates_nothing_new()
    {
        var tenant = await TenantAsync();
        await PutUsageAsync(tenant, October, "api_calls", 20_000);

        var first = await CloseAsync("2026-10", AfterOctober);
        await PutUsageAsync(tenant, October, "storage_gb", 500);
        var second = await CloseAsync("2026-10", AfterOctober.AddDays(3));

        Assert.Multiple(async () =>
        {
            Assert.That(first.InvoicesCreated, Is.EqualTo(1));
            Assert.That(second.InvoicesCreated, Is.Zero);
            Assert.That(second.SkippedAlreadyInvoiced, Is.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant)), Is.EqualTo(1));
            Assert.That((await InvoiceAsync(tenant, October))!.Value.Total, Is.EqualTo(1_000));
        });
    }

    [Test]
    public async Task A_month_that_has_not_ended_is_refused()
    {
        var refused = Assert.ThrowsAsync<ValidationFailedException>(() => CloseAsync("2026-11", Utc(2026, 11, 30, 23)));
        var malformed = Assert.ThrowsAsync<ValidationFailedException>(() => CloseAsync("2026-13", AfterOctober));
        Assert.Multiple(() =>
        {
            Assert.That(refused!.Errors["period"][0], Does.Contain("has not ended"));
            Assert.That(malformed!.Errors, Does.ContainKey("period"));
        });
    }

    [Test]
    public async Task Eight_parallel_closes_of_the_same_month_over_50_tenants_make_exactly_50_invoices_numbered_1_to_50()
    {
        var owner = await TestApi.SignUpAsync();
        var tenants = new List<Guid>();
        for (var i = 0; i < 50; i++)
        {
            var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
            await PutUsageAsync(tenant, October, "api_calls", 10_000 + (10 * (i + 1)));
            tenants.Add(tenant);
        }

        await using var engines = TestEngines.Build(new() { ["Billing:CloseBatchSize"] = "7" }, new ManualClock(AfterOctober));
        var closes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var scope = engines.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CloseBillingPeriod(Caller.System, "2026-10"));
        }));

        // The owner sees rows only inside one tenant's scope (FORCE row-level security), so count tenant by tenant.
        var numbers = new List<long>();
        long invoices = 0, audited = 0;
        foreach (var tenant in tenants)
        {
            numbers.Add((await InvoiceAsync(tenant, October))!.Value.Number);
            invoices += await OwnerSql.CountAsync("SELECT count(*) FROM invoices", tenant);
            audited += await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'invoice.issued'", tenant);
        }
        Assert.Multiple(async () =>
        {
            Assert.That(closes.Sum(c => c.InvoicesCreated), Is.EqualTo(50));
            Assert.That(invoices, Is.EqualTo(50));
            Assert.That(numbers.Order(), Is.EqualTo(Enumerable.Range(1, 50).Select(n => (long)n)));
            Assert.That(await OwnerSql.CountAsync("SELECT last_number FROM invoice_number_counter"), Is.EqualTo(50));
            Assert.That(audited, Is.EqualTo(50));
        });
    }

    [Test]
    public async Task The_job_closes_the_previous_month_once_and_then_leaves_it_alone()
    {
        var tenant = await TenantAsync();
        await PutUsageAsync(tenant, October, "api_calls", 30_000);
        var clock = new ManualClock(Utc(2026, 11, 1, 0).AddMinutes(5));
        await using var engines = TestEngines.Build(clock: clock);
        var job = ActivatorUtilities.CreateInstance<BillingCloseJob>(engines);

        var first = await job.CloseEndedMonthAsync(CancellationToken.None);
        var second = await job.CloseEndedMonthAsync(CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(first?.Period, Is.EqualTo("2026-10"));
            Assert.That(first?.InvoicesCreated, Is.EqualTo(1));
            Assert.That(second, Is.Null);
            Assert.That((await InvoiceAsync(tenant, October))!.Value.Total, Is.EqualTo(2_000));
        });
    }
}
