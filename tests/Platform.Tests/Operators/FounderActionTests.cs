using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Operators;

public sealed class FounderActionTests : DatabaseTest
{
    [Test]
    public async Task Suspension_blocks_tenant_writes_until_a_super_admin_reverses_it()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var ownerClient = TestApi.Client(owner.Token);
        var (support, supportClient) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        var (superAdmin, superClient) = await OperatorTestSupport.SignedInAsync("super_admin");

        using (var before = await ownerClient.PatchAsJsonAsync($"/v1/tenants/{tenantId}", new { name = "Before" }))
        {
            await TestApi.ExpectAsync(before, HttpStatusCode.OK);
        }

        using var suspend = await supportClient.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse", reason_note = "spam runs" });
        await TestApi.ExpectAsync(suspend, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(suspend);
        Assert.Multiple(() =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("tenant.suspend"));
            Assert.That((Guid?)action["tenant_id"], Is.EqualTo(tenantId));
            Assert.That((Guid?)action["operator_id"], Is.EqualTo(support.Id));
            Assert.That((bool?)action["mfa_verified"], Is.False);
            Assert.That((bool?)action["reversible"], Is.True);
            Assert.That((string?)action["reason_code"], Is.EqualTo("abuse"));
        });

        using (var blocked = await ownerClient.PatchAsJsonAsync($"/v1/tenants/{tenantId}", new { name = "During" }))
        {
            await TestApi.ExpectProblemAsync(blocked, HttpStatusCode.Forbidden, "tenant_suspended");
        }

        using var reverse = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "appeal_accepted" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        var reversal = await TestApi.ReadAsync(reverse);
        Assert.Multiple(() =>
        {
            Assert.That((string?)reversal["action_type"], Is.EqualTo("reversal"));
            Assert.That((string?)reversal["reverses_action_id"], Is.EqualTo((string?)action["id"]));
            Assert.That((Guid?)reversal["operator_id"], Is.EqualTo(superAdmin.Id));
            Assert.That((bool?)reversal["mfa_verified"], Is.True);
            Assert.That((bool?)reversal["reversible"], Is.False);
        });

        using (var after = await ownerClient.PatchAsJsonAsync($"/v1/tenants/{tenantId}", new { name = "After" }))
        {
            await TestApi.ExpectAsync(after, HttpStatusCode.OK);
        }

        using var original = await superClient.GetAsync($"/v1/admin/actions/{action["id"]}");
        Assert.That((string?)(await TestApi.ReadAsync(original))["reversed_by_action_id"], Is.EqualTo((string?)reversal["id"]));
        Assert.That(await OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "tenant.suspended", "tenant.unsuspended" }));
    }

    [Test]
    public async Task Reversing_twice_answers_409()
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        var actionId = await SuspendAsync(client, tenantId);

        using var first = await client.PostAsync($"/v1/admin/actions/{actionId}/reverse", null);
        using var second = await client.PostAsync($"/v1/admin/actions/{actionId}/reverse", null);

        await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        await TestApi.ExpectProblemAsync(second, HttpStatusCode.Conflict, "action_already_reversed");
    }

    [Test]
    public async Task Exactly_one_of_20_parallel_reversals_succeeds()
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        var actionId = await SuspendAsync(client, tenantId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsync($"/v1/admin/actions/{actionId}/reverse", null)));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(19));
        });
        foreach (var r in responses)
        {
            r.Dispose();
        }
        using var list = await client.GetAsync($"/v1/admin/actions?tenant_id={tenantId}&action_type=reversal");
        Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(await OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "tenant.suspended", "tenant.unsuspended" }));
    }

    [Test]
    public async Task A_reversal_is_itself_irreversible()
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        var actionId = await SuspendAsync(client, tenantId);
        using var reverse = await client.PostAsync($"/v1/admin/actions/{actionId}/reverse", null);
        var reversalId = (string)(await TestApi.ReadAsync(reverse))["id"]!;

        using var again = await client.PostAsync($"/v1/admin/actions/{reversalId}/reverse", null);

        var body = await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "action_irreversible");
        Assert.That((string?)body["detail"], Does.Contain("cannot be reversed"));
    }

    [Test]
    public async Task Reversing_an_unsuspension_suspends_again_with_the_earlier_reason()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        await SuspendAsync(client, tenantId);
        using var unsuspend = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/unsuspend", new { reason_code = "paid" });
        await TestApi.ExpectAsync(unsuspend, HttpStatusCode.Created);

        using var reverse = await client.PostAsync($"/v1/admin/actions/{(await TestApi.ReadAsync(unsuspend))["id"]}/reverse", null);

        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        using var detail = await client.GetAsync($"/v1/admin/tenants/{tenantId}");
        var tenant = (await TestApi.ReadAsync(detail))["tenant"]!;
        Assert.That((string?)tenant["status"], Is.EqualTo("suspended"));
        Assert.That((string?)tenant["suspended_reason"], Is.EqualTo("abuse: spam"));
        using var blocked = await TestApi.Client(owner.Token).PatchAsJsonAsync($"/v1/tenants/{tenantId}", new { name = "x" });
        await TestApi.ExpectProblemAsync(blocked, HttpStatusCode.Forbidden, "tenant_suspended");
    }

    [Test]
    public async Task Operator_roles_are_checked_per_route()
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        using var viewerSuspend = await viewer.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse" });
        using var billingSuspend = await billing.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse" });
        using var viewerList = await viewer.GetAsync("/v1/admin/tenants");
        var actionId = await SuspendAsync(support, tenantId);
        using var supportReverse = await support.PostAsync($"/v1/admin/actions/{actionId}/reverse", null);

        await TestApi.ExpectProblemAsync(viewerSuspend, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(billingSuspend, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectAsync(viewerList, HttpStatusCode.OK);
        await TestApi.ExpectProblemAsync(supportReverse, HttpStatusCode.Forbidden, "forbidden");
    }

    [Test]
    public async Task Bad_founder_action_input_gets_4xx_problem_details_and_writes_nothing()
    {
        var tenantId = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync());
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var noReason = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_note = "x" });
        using var badReason = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "Not A Code!" });
        using var noBody = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/admin/tenants/{tenantId}/suspend", "[1,2"));
        using var unknownTenant = await client.PostAsJsonAsync($"/v1/admin/tenants/{Guid.NewGuid()}/suspend", new { reason_code = "abuse" });
        using var unknownAction = await client.PostAsync($"/v1/admin/actions/{Guid.NewGuid()}/reverse", null);
        using var badCursor = await client.GetAsync("/v1/admin/actions?cursor=nope");
        using var badLimit = await client.GetAsync("/v1/admin/tenants?limit=500");
        using var badStatus = await client.GetAsync("/v1/admin/tenants?status=sleeping");
        using var unsuspendActive = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/unsuspend", new { reason_code = "paid" });

        var missing = await TestApi.ExpectProblemAsync(noReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(missing["errors"]!.AsObject().ContainsKey("reason_code"), Is.True);
        await TestApi.ExpectProblemAsync(badReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(noBody, HttpStatusCode.BadRequest, "validation_failed");
        await TestApi.ExpectProblemAsync(unknownTenant, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(unknownAction, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(badCursor, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(badLimit, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(badStatus, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(unsuspendActive, HttpStatusCode.Conflict, "conflict");
        using var list = await client.GetAsync("/v1/admin/actions");
        Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Operators_search_tenants_across_tenants_and_read_counters()
    {
        var owner = await TestApi.SignUpAsync();
        var acme = await TestApi.CreateTenantAsync(owner, "acme-" + Guid.NewGuid().ToString("N")[..8]);
        var globex = await TestApi.CreateTenantAsync(await TestApi.SignUpAsync(), "globex-" + Guid.NewGuid().ToString("N")[..8]);
        await TestApi.MemberAsync(acme, "viewer");
        var (_, client) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        await SuspendAsync(support, globex);

        using var all = await client.GetAsync("/v1/admin/tenants?limit=1");
        var firstPage = await TestApi.ReadAsync(all);
        using var next = await client.GetAsync($"/v1/admin/tenants?limit=1&cursor={firstPage["next_cursor"]}");
        var secondPage = await TestApi.ReadAsync(next);
        using var byName = await client.GetAsync("/v1/admin/tenants?q=ACME");
        using var bySuspended = await client.GetAsync("/v1/admin/tenants?status=suspended");
        using var byPlan = await client.GetAsync("/v1/admin/tenants?plan=enterprise");
        using var detail = await client.GetAsync($"/v1/admin/tenants/{acme}");
        using var unknown = await client.GetAsync($"/v1/admin/tenants/{Guid.NewGuid()}");

        var ids = new[] { firstPage, secondPage }.SelectMany(p => p["data"]!.AsArray()).Select(t => (Guid)t!["id"]!).ToList();
        var named = Ids(await TestApi.ReadAsync(byName));
        var suspended = Ids(await TestApi.ReadAsync(bySuspended));
        var enterprise = Ids(await TestApi.ReadAsync(byPlan));
        var d = await TestApi.ReadAsync(detail);
        Assert.Multiple(() =>
        {
            Assert.That(ids, Is.EquivalentTo(new[] { acme, globex }));
            Assert.That((string?)secondPage["next_cursor"], Is.Null);
            Assert.That(named, Is.EqualTo(new[] { acme }));
            Assert.That(suspended, Is.EqualTo(new[] { globex }));
            Assert.That(enterprise, Is.Empty);
            Assert.That((Guid?)d["tenant"]!["id"], Is.EqualTo(acme));
            Assert.That((long?)d["members"], Is.EqualTo(2));
            Assert.That((long?)d["open_support_tickets"], Is.EqualTo(0));
            Assert.That((long?)d["founder_actions"], Is.EqualTo(0));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    private static List<Guid> Ids(JsonNode page) => page["data"]!.AsArray().Select(t => (Guid)t!["id"]!).ToList();

    private static async Task<string> SuspendAsync(HttpClient client, Guid tenantId)
    {
        using var response = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse", reason_note = "spam" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return (string)(await TestApi.ReadAsync(response))["id"]!;
    }

    /// <summary>Reads the tenant's audit actions written by operators, oldest first, as the schema owner inside the tenant's scope.</summary>
    internal static async Task<List<string>> OperatorAuditActionsAsync(Guid tenantId)
    {
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await using var select = scope.Command(
            "SELECT action FROM audit_log WHERE tenant_id = @t AND actor_type = 'operator' ORDER BY occurred_at, id", ("t", tenantId));
        var actions = new List<string>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            actions.Add(reader.GetString(0));
        }
        return actions;
    }
}
