using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Gdpr;
using Platform.Engines.Usage;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Tests.Operators;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Usage;

/// <summary>Proves that an operator's quota override, set over the operator API, changes each behaviour it names at once (ADR 0562): the seat check,
/// the usage summary, the quota check, the alerts, the invoice and the estimate (included quantity), the monthly credit grant and the retention.</summary>
public sealed class QuotaOverridesBiteTests : DatabaseTest
{
    private static async Task OverrideAsync(Guid tenantId, string quota, long value)
    {
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        using var set = await client.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/{quota}", new { value, reason_code = "pilot" });
        await TestApi.ExpectAsync(set, HttpStatusCode.Created);
    }

    [Test]
    public async Task A_members_override_below_the_plan_refuses_the_next_seat()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 members
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "members", 2);

        using (var first = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "a@example.test", role = "member" }))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        using var second = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/invitations", new { email = "b@example.test", role = "member" });
        var problem = await TestApi.ExpectProblemAsync(second, HttpStatusCode.TooManyRequests, "quota_exceeded");
        Assert.That((string?)problem["quota"], Is.EqualTo("members"));
        Assert.That((long?)problem["limit"], Is.EqualTo(2));
    }

    [Test]
    public async Task Metered_overrides_show_in_the_summary_and_decide_the_quota_check()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 10,000 calls, 10 GB, 5 GPU hours
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "api_calls_per_month", 50);
        await OverrideAsync(tenantId, "storage_gb", -1);
        await OverrideAsync(tenantId, "gpu_hours_per_month", 100);

        var lines = (await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenantId}/usage")))["meters"]!.AsArray()
            .ToDictionary(m => (string)m!["meter"]!, m => m!);
        Assert.Multiple(() =>
        {
            Assert.That((long?)lines["api_calls"]["quota"], Is.EqualTo(50));
            Assert.That((long?)lines["storage_gb"]["quota"], Is.EqualTo(-1));
            Assert.That((long?)lines["gpu_hours"]["quota"], Is.EqualTo(100));
        });

        await using var scope = TestApi.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var caller = Caller.User(owner.Id);
        Assert.That((await mediator.Send(new CheckQuota(caller, tenantId, "gpu_hours", 99.5m))).Quota, Is.EqualTo(100));
        var refused = Assert.ThrowsAsync<QuotaExceededException>(() => mediator.Send(new CheckQuota(caller, tenantId, "api_calls", 51)));
        Assert.That(refused!.Limit, Is.EqualTo(50));
    }

    [Test]
    public async Task The_alert_threshold_follows_the_override()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours: 8 would be past 100 %
        await OverrideAsync(tenantId, "gpu_hours_per_month", 10);

        using var response = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events",
            new[] { new { meter = "gpu_hours", amount = 8.5m, idempotency_key = "g" } });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);

        Assert.That(await OwnerSql.ScalarAsync<string>(
            "SELECT string_agg(notice, ',') FROM billing_notices WHERE notice LIKE 'usage_alert:%'", tenantId), Does.EndWith(":80"));
        Assert.That(await OwnerSql.CountAsync(
            "SELECT count(*) FROM outbox_messages WHERE kind = 'email.usage_alert' AND payload::text LIKE '%8.5 of 10 (80%%)%'", tenantId), Is.EqualTo(1));
    }

    [Test]
    public async Task The_invoice_and_the_estimate_include_the_overridden_quantity()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 5 GPU hours included
        var client = TestApi.Client(owner.Token);
        await OverrideAsync(tenantId, "gpu_hours_per_month", 12);
        var now = DateTimeOffset.UtcNow;
        using (var response = await client.PostAsJsonAsync($"/v1/tenants/{tenantId}/usage/events", new object[]
        {
            new { meter = "gpu_hours", amount = 15.5m, idempotency_key = "oct", occurred_at = "2026-10-10T00:00:00Z" },
            new { meter = "gpu_hours", amount = 13m, idempotency_key = "now", occurred_at = now },
        }))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }

        await CloseAsync("2026-10", Utc(2026, 11, 2));
        // 15.5 - 12 = 3.5 hours × 250 cents (the plan's 5 would have billed 10.5 hours).
        Assert.That(await LinesAsync(tenantId, Utc(2026, 10, 1)), Is.EqualTo(new[] { "overage gpu_hours 3.5/1 x 250 = 875" }));

        var estimate = (await TestApi.ReadAsync(await client.GetAsync($"/v1/tenants/{tenantId}/billing")))["estimated_cost"]!;
        Assert.That((long?)estimate["total_cents"], Is.EqualTo(250), "13 - 12 = 1 hour over");
    }

    [Test]
    public async Task The_monthly_credit_grant_follows_the_override()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "free"); // 10 credits a month
        await OverrideAsync(tenantId, "credits_per_month", 500);

        var account = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenantId}/credits"));
        Assert.That((long?)account["balance"], Is.EqualTo(500));
    }

    [Test]
    public async Task Retention_follows_the_override()
    {
        var owner = await TestApi.SignUpAsync();
        var shortened = await TestApi.CreateTenantAsync(owner, plan: "free"); // 7 days, overridden to 2
        var lengthened = await TestApi.CreateTenantAsync(owner, plan: "free"); // 7 days, overridden to 30
        var plain = await TestApi.CreateTenantAsync(owner, plan: "free");
        await OverrideAsync(shortened, "retention_days", 2);
        await OverrideAsync(lengthened, "retention_days", 30);
        await OwnerSql.ScalarAsync<object>(
            """
            CREATE TABLE retention_override_probe (tenant_id uuid NOT NULL REFERENCES tenants (id), id serial, happened_at timestamptz NOT NULL,
                                                   PRIMARY KEY (tenant_id, id));
            ALTER TABLE retention_override_probe ENABLE ROW LEVEL SECURITY;
            ALTER TABLE retention_override_probe FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON retention_override_probe USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
            GRANT SELECT, INSERT, DELETE ON retention_override_probe TO platform_app;
            """);
        try
        {
            foreach (var tenant in new[] { shortened, lengthened, plain })
            {
                await OwnerSql.ScalarAsync<object>(
                    "INSERT INTO retention_override_probe (tenant_id, happened_at) SELECT @t, now() - make_interval(days => d) FROM unnest(ARRAY[1, 3, 8, 31]) AS d",
                    tenant, ("t", tenant));
            }
            using var scope = TestApi.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeExpiredRows([new RetentionTable("retention_override_probe", "happened_at")]));
            Assert.Multiple(async () =>
            {
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_override_probe", shortened), Is.EqualTo(1));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_override_probe", lengthened), Is.EqualTo(3));
                Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM retention_override_probe", plain), Is.EqualTo(2));
            });
        }
        finally
        {
            await OwnerSql.ScalarAsync<object>("DROP TABLE retention_override_probe");
        }
    }
}
