using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Invoices;

/// <summary>Proves the invoice routes over HTTP: the operator close and mark-paid (a founder action), and a tenant's invoice list, detail and billing summary with their access rules.</summary>
public sealed class InvoiceApiTests : DatabaseTest
{
    private static readonly DateTimeOffset October = Utc(2026, 10, 1);

    /// <summary>Makes a free tenant that used 20,000 API calls in October 2026 (10,000 over the quota: $10.00) and closes October over HTTP.</summary>
    private static async Task<(TestUser Owner, Guid Tenant, Guid Invoice, HttpClient Operator)> InvoicedTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await PutUsageAsync(tenant, October, "api_calls", 20_000);
        var (_, op) = await OperatorTestSupport.SignedInAsync("billing");
        using var close = await op.PostAsJsonAsync("/v1/admin/billing/close", new { period = "2026-10" });
        await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        var list = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/invoices"));
        return (owner, tenant, Guid.Parse((string)list["data"]![0]!["id"]!), op);
    }

    [Test]
    public async Task A_billing_operator_closes_an_ended_month_and_closing_again_skips_every_invoiced_tenant()
    {
        var (_, tenant, _, op) = await InvoicedTenantAsync();
        using var again = await op.PostAsJsonAsync("/v1/admin/billing/close", new { period = "2026-10" });
        await TestApi.ExpectAsync(again, HttpStatusCode.OK);
        var summary = await TestApi.ReadAsync(again);
        Assert.Multiple(async () =>
        {
            Assert.That((int?)summary["invoices_created"], Is.Zero);
            Assert.That((long?)summary["skipped_already_invoiced"], Is.EqualTo(1));
            Assert.That((long?)summary["period_invoices"], Is.EqualTo(1));
            Assert.That((long?)summary["period_total_cents"], Is.EqualTo(1_000));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM invoices WHERE tenant_id = @t", tenant, ("t", tenant)), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Closing_a_month_that_has_not_ended_is_422_and_a_support_operator_or_tenant_user_may_not_close()
    {
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing");
        var (_, support) = await OperatorTestSupport.SignedInAsync("support");
        var user = await TestApi.SignUpAsync();
        var thisMonth = DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

        using var notEnded = await billing.PostAsJsonAsync("/v1/admin/billing/close", new { period = thisMonth });
        var problem = await TestApi.ExpectProblemAsync(notEnded, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!["period"]![0]!.ToString(), Does.Contain("has not ended"));
        using var malformed = await billing.PostAsJsonAsync("/v1/admin/billing/close", new { period = "October" });
        await TestApi.ExpectProblemAsync(malformed, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var missing = await billing.PostAsJsonAsync("/v1/admin/billing/close", new { });
        await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var bySupport = await support.PostAsJsonAsync("/v1/admin/billing/close", new { period = "2026-10" });
        await TestApi.ExpectProblemAsync(bySupport, HttpStatusCode.Forbidden, "forbidden");
        using var byUser = await TestApi.Client(user.Token).PostAsJsonAsync("/v1/admin/billing/close", new { period = "2026-10" });
        Assert.That((int)byUser.StatusCode, Is.AnyOf(401, 403));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM billing_periods"), Is.Zero);
    }

    [Test]
    public async Task Marking_an_offline_invoice_paid_records_a_founder_action_and_paying_it_twice_is_409()
    {
        var (owner, tenant, invoice, op) = await InvoicedTenantAsync();

        using var paid = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "bank_transfer", reason_note = "ref 42" });
        await TestApi.ExpectAsync(paid, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(paid);
        using var twice = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "bank_transfer" });
        await TestApi.ExpectProblemAsync(twice, HttpStatusCode.Conflict, "invoice_already_paid");

        var detail = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/invoices/{invoice}"));
        var actions = await TestApi.ReadAsync(await op.GetAsync($"/v1/admin/actions?tenant_id={tenant}"));
        Assert.Multiple(async () =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("invoice.mark_paid"));
            Assert.That((bool?)action["reversible"], Is.False);
            Assert.That((string?)detail["status"], Is.EqualTo("paid"));
            Assert.That((string?)detail["paid_at"], Is.Not.Null);
            Assert.That(actions["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'invoice.paid'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Paying_the_last_overdue_invoice_lifts_the_dunning_suspension_and_an_earlier_payment_does_not()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await PutUsageAsync(tenant, Utc(2026, 9, 1), "api_calls", 20_000);
        await PutUsageAsync(tenant, October, "api_calls", 20_000);
        await CloseAsync("2026-09", Utc(2026, 10, 2));
        await CloseAsync("2026-10", Utc(2026, 11, 2));
        // Both invoices are overdue and the dunning job suspended the tenant (the state it leaves, written directly).
        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET due_date = date '2026-11-10' WHERE tenant_id = @t", tenant, ("t", tenant));
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET status = 'suspended', suspended_reason = @r WHERE id = @t", tenant,
            ("t", tenant), ("r", Platform.Engines.Billing.BillingLifecycle.DunningReason));
        var september = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t AND period_start = @p", tenant, ("t", tenant), ("p", Utc(2026, 9, 1)));
        var october = await OwnerSql.ScalarAsync<Guid>("SELECT id FROM invoices WHERE tenant_id = @t AND period_start = @p", tenant, ("t", tenant), ("p", October));
        var (_, op) = await OperatorTestSupport.SignedInAsync("billing");

        using var first = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{september}/mark-paid", new { reason_code = "bank_transfer" });
        await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        var afterFirst = await OwnerSql.ScalarAsync<string>("SELECT status FROM tenants WHERE id = @t", tenant, ("t", tenant));
        using var second = await op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{october}/mark-paid", new { reason_code = "bank_transfer" });
        await TestApi.ExpectAsync(second, HttpStatusCode.Created);

        Assert.Multiple(async () =>
        {
            Assert.That(afterFirst, Is.EqualTo("suspended"), "October is still overdue");
            Assert.That(await OwnerSql.ScalarAsync<string>("SELECT status FROM tenants WHERE id = @t", tenant, ("t", tenant)), Is.EqualTo("active"));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'tenant.billing_changed'", tenant), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Ten_parallel_mark_paid_requests_pay_the_invoice_exactly_once()
    {
        var (_, tenant, invoice, op) = await InvoicedTenantAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            op.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "bank_transfer" })));
        Assert.Multiple(async () =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(9));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM founder_actions WHERE action_type = 'invoice.mark_paid'"), Is.EqualTo(1));
        });
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task Mark_paid_needs_billing_or_higher_an_offline_invoice_and_the_right_tenant()
    {
        var (_, tenant, invoice, billing) = await InvoicedTenantAsync();
        var other = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync(), plan: "free");
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer");

        using var byViewer = await viewer.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "x" });
        await TestApi.ExpectProblemAsync(byViewer, HttpStatusCode.Forbidden, "forbidden");
        using var wrongTenant = await billing.PostAsJsonAsync($"/v1/admin/tenants/{other}/invoices/{invoice}/mark-paid", new { reason_code = "x" });
        await TestApi.ExpectProblemAsync(wrongTenant, HttpStatusCode.NotFound, "not_found");
        using var unknown = await billing.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{Guid.NewGuid()}/mark-paid", new { reason_code = "x" });
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");

        await OwnerSql.ScalarAsync<object>("UPDATE invoices SET stripe_invoice_id = 'in_123' WHERE id = @i", tenant, ("i", invoice));
        using var online = await billing.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoice}/mark-paid", new { reason_code = "x" });
        await TestApi.ExpectProblemAsync(online, HttpStatusCode.Conflict, "invoice_online");
    }

    [Test]
    public async Task An_admin_lists_and_reads_invoices_with_lines_a_viewer_gets_403_and_another_tenant_404()
    {
        var (owner, tenant, invoice, _) = await InvoicedTenantAsync();
        var client = TestApi.Client(owner.Token);
        var admin = TestApi.Client((await TestApi.MemberAsync(tenant, "admin")).Token);
        var viewer = TestApi.Client((await TestApi.MemberAsync(tenant, "viewer")).Token);
        var otherOwner = await TestApi.SignUpAsync();
        var otherTenant = await TestApi.CreateTenantAsync(otherOwner, plan: "free");
        var stranger = TestApi.Client(otherOwner.Token);

        var list = await TestApi.ReadAsync(await admin.GetAsync($"/v1/tenants/{tenant}/invoices"));
        var detail = await TestApi.ReadAsync(await admin.GetAsync($"/v1/tenants/{tenant}/invoices/{invoice}"));
        var paidOnly = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices?status=paid"));
        Assert.Multiple(() =>
        {
            Assert.That(list["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That((long?)list["data"]![0]!["number"], Is.EqualTo(1));
            Assert.That((string?)list["data"]![0]!["status"], Is.EqualTo("open"));
            Assert.That((string?)list["data"]![0]!["period_start"], Does.StartWith("2026-10-01T00:00:00"));
            Assert.That((string?)list["next_cursor"], Is.Null);
            Assert.That((long?)detail["total_cents"], Is.EqualTo(1_000));
            Assert.That((string?)detail["currency"], Is.EqualTo("usd"));
            Assert.That((string?)detail["due_date"], Is.Not.Null);
            Assert.That((string?)detail["lines"]![0]!["meter"], Is.EqualTo("api_calls"));
            Assert.That((decimal?)detail["lines"]![0]!["quantity"], Is.EqualTo(10_000m));
            Assert.That((long?)detail["lines"]![0]!["amount_cents"], Is.EqualTo(1_000));
            Assert.That(paidOnly["data"]!.AsArray(), Is.Empty);
        });

        await TestApi.ExpectProblemAsync(await viewer.GetAsync($"/v1/tenants/{tenant}/invoices"), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await viewer.GetAsync($"/v1/tenants/{tenant}/invoices/{invoice}"), HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(await stranger.GetAsync($"/v1/tenants/{tenant}/invoices"), HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(await stranger.GetAsync($"/v1/tenants/{otherTenant}/invoices/{invoice}"), HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices?status=bogus"), HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices?cursor=nonsense"), HttpStatusCode.UnprocessableEntity, "validation_failed");
    }

    [Test]
    public async Task The_invoice_list_pages_newest_first_and_the_billing_summary_shows_the_last_five()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        var (_, op) = await OperatorTestSupport.SignedInAsync("super_admin");
        for (var month = 4; month <= 10; month++)
        {
            await PutUsageAsync(tenant, Utc(2026, month, 1), "api_calls", 10_000 + (month * 100));
            using var close = await op.PostAsJsonAsync("/v1/admin/billing/close", new { period = $"2026-{month:00}" });
            await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        }
        var client = TestApi.Client(owner.Token);

        var numbers = new List<long>();
        string? cursor = null;
        do
        {
            var page = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/invoices?limit=3" + (cursor is null ? "" : $"&cursor={cursor}")));
            numbers.AddRange(page["data"]!.AsArray().Select(i => (long)i!["number"]!));
            cursor = (string?)page["next_cursor"];
        }
        while (cursor is not null);
        var summary = await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenant}/billing"));

        Assert.Multiple(() =>
        {
            Assert.That(numbers, Is.EqualTo(new long[] { 7, 6, 5, 4, 3, 2, 1 }));
            Assert.That(summary["recent_invoices"]!.AsArray().Select(i => (long)i!["number"]!), Is.EqualTo(new long[] { 7, 6, 5, 4, 3 }));
            Assert.That((long?)summary["recent_invoices"]![0]!["total_cents"], Is.EqualTo(100));
        });
    }
}
