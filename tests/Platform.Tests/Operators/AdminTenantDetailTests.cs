using System.Net;
using System.Net.Http.Json;
using Platform.Tests.ApiKeys;
using static Platform.Tests.Invoices.InvoiceTestSupport;

namespace Platform.Tests.Operators;

/// <summary>Proves the operator's reads of one tenant (ADR 0745): usage, billing, invoices, members and API keys of any tenant for any
/// operator role, with cursor paging; unknown tenants are 404, bad paging 422, and tenant users never reach them.</summary>
public sealed class AdminTenantDetailTests : DatabaseTest
{
    [Test]
    public async Task A_viewer_operator_pages_through_a_tenants_members_and_keys_and_sees_a_frozen_key_as_frozen()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var admin = await TestApi.MemberAsync(tenant, "admin");
        var viewer = await TestApi.MemberAsync(tenant, "viewer");
        var first = await Keys.CreateAsync(owner.Token, tenant);
        var second = await Keys.CreateAsync(owner.Token, tenant);
        var otherOwner = await TestApi.SignUpAsync();
        var otherTenant = await TestApi.CreateTenantAsync(otherOwner);
        _ = await Keys.CreateAsync(otherOwner.Token, otherTenant);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        var (_, op) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        using (var freeze = await support.PostAsJsonAsync($"/v1/admin/api-keys/{second.Id}/freeze", new { reason_code = "abuse" }))
        {
            await TestApi.ExpectAsync(freeze, HttpStatusCode.Created);
        }

        var members = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await TestApi.ReadAsync(await op.GetAsync($"/v1/admin/tenants/{tenant}/members?limit=2" + (cursor is null ? "" : $"&cursor={cursor}")));
            members.AddRange(page["data"]!.AsArray().Select(m => (string)m!["email"]! + ":" + (string)m["role"]!));
            cursor = (string?)page["next_cursor"];
            pages++;
        }
        while (cursor is not null && pages < 5);
        var keys = await TestApi.ReadAsync(await op.GetAsync($"/v1/admin/tenants/{tenant}/api-keys"));
        var keyPage = await TestApi.ReadAsync(await op.GetAsync($"/v1/admin/tenants/{tenant}/api-keys?limit=1"));
        var keyRest = await TestApi.ReadAsync(await op.GetAsync($"/v1/admin/tenants/{tenant}/api-keys?limit=1&cursor={keyPage["next_cursor"]}"));

        Assert.Multiple(() =>
        {
            Assert.That(pages, Is.EqualTo(2));
            Assert.That(members, Is.EquivalentTo(new[] { owner.Email + ":owner", admin.Email + ":admin", viewer.Email + ":viewer" }));
            var byId = keys["data"]!.AsArray().ToDictionary(k => Guid.Parse((string)k!["id"]!), k => (string)k!["status"]!);
            Assert.That(byId, Is.EquivalentTo(new Dictionary<Guid, string> { [first.Id] = "active", [second.Id] = "frozen" }));
            Assert.That(keys["data"]!.AsArray().All(k => k!["key"] is null), Is.True, "no secret is ever listed");
            Assert.That(keyPage["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(keyRest["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That((string?)keyRest["data"]![0]!["id"], Is.Not.EqualTo((string?)keyPage["data"]![0]!["id"]));
            Assert.That((string?)keyRest["next_cursor"], Is.Null);
        });
    }

    [Test]
    public async Task An_operator_reads_a_tenants_invoices_billing_and_usage_and_marks_the_listed_invoice_paid()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner, plan: "free");
        await PutUsageAsync(tenant, Utc(2026, 10, 1), "api_calls", 20_000);
        await PutUsageAsync(tenant, Utc(2026, 9, 1), "api_calls", 20_000);
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing");
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        foreach (var period in new[] { "2026-09", "2026-10" })
        {
            using var close = await billing.PostAsJsonAsync("/v1/admin/billing/close", new { period });
            await TestApi.ExpectAsync(close, HttpStatusCode.OK);
        }

        var newest = await TestApi.ReadAsync(await viewer.GetAsync($"/v1/admin/tenants/{tenant}/invoices?limit=1"));
        var older = await TestApi.ReadAsync(await viewer.GetAsync($"/v1/admin/tenants/{tenant}/invoices?limit=1&cursor={newest["next_cursor"]}"));
        var invoiceId = (string)newest["data"]![0]!["id"]!;
        using (var paid = await billing.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/invoices/{invoiceId}/mark-paid", new { reason_code = "bank_transfer" }))
        {
            await TestApi.ExpectAsync(paid, HttpStatusCode.Created);
        }
        var paidOnly = await TestApi.ReadAsync(await viewer.GetAsync($"/v1/admin/tenants/{tenant}/invoices?status=paid"));
        var summary = await TestApi.ReadAsync(await viewer.GetAsync($"/v1/admin/tenants/{tenant}/billing"));
        var usage = await TestApi.ReadAsync(await viewer.GetAsync($"/v1/admin/tenants/{tenant}/usage"));
        var ownersUsage = await TestApi.ReadAsync(await TestApi.Client(owner.Token).GetAsync($"/v1/tenants/{tenant}/usage"));

        Assert.Multiple(() =>
        {
            Assert.That((string?)newest["data"]![0]!["period_start"], Does.StartWith("2026-10-01"));
            Assert.That((long?)newest["data"]![0]!["total_cents"], Is.EqualTo(1_000));
            Assert.That((string?)older["data"]![0]!["period_start"], Does.StartWith("2026-09-01"));
            Assert.That((string?)older["next_cursor"], Is.Null);
            Assert.That(paidOnly["data"]!.AsArray().Select(i => (string?)i!["id"]), Is.EqualTo(new[] { invoiceId }));
            Assert.That((string?)summary["plan"], Is.EqualTo("free"));
            Assert.That(summary["recent_invoices"]!.AsArray(), Has.Count.EqualTo(2));
            Assert.That(usage["meters"]!.ToJsonString(), Is.EqualTo(ownersUsage["meters"]!.ToJsonString()));
        });
    }

    [Test]
    public async Task Unknown_tenants_are_404_bad_paging_is_422_and_tenant_users_are_refused()
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var (_, op) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var unknown = Guid.NewGuid();
        foreach (var route in new[] { "usage", "billing", "invoices", "members", "api-keys" })
        {
            using var missing = await op.GetAsync($"/v1/admin/tenants/{unknown}/{route}");
            await TestApi.ExpectProblemAsync(missing, HttpStatusCode.NotFound, "not_found");
            using var byOwner = await TestApi.Client(owner.Token).GetAsync($"/v1/admin/tenants/{tenant}/{route}");
            Assert.That((int)byOwner.StatusCode, Is.AnyOf(401, 403), route);
        }
        foreach (var query in new[] { "members?limit=0", "api-keys?limit=201", "invoices?status=lost", "members?cursor=not-a-cursor" })
        {
            using var bad = await op.GetAsync($"/v1/admin/tenants/{tenant}/{query}");
            await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
    }
}
