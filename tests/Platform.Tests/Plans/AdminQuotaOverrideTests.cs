using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Models.Plans;
using Platform.Tests.Operators;

namespace Platform.Tests.Plans;

public sealed class AdminQuotaOverrideTests : DatabaseTest
{
    private static readonly int FreeKeys = PlanCatalog.Get(PlanCatalog.Free).Limits.MaxApiKeys;

    [Test]
    public async Task An_override_changes_max_api_keys_at_once_under_30_parallel_creates_and_reversal_restores_the_plan_value()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        var (billing, billingClient) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        var (_, superClient) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var set = await billingClient.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/max_api_keys",
            new { value = FreeKeys + 3, reason_code = "pilot", reason_note = "design partner" });
        await TestApi.ExpectAsync(set, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(set);
        Assert.Multiple(() =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("quota.override_set"));
            Assert.That((string?)action["target_type"], Is.EqualTo("quota_override"));
            Assert.That((string?)action["target_id"], Is.EqualTo($"{tenantId}/max_api_keys"));
            Assert.That((Guid?)action["tenant_id"], Is.EqualTo(tenantId));
            Assert.That((Guid?)action["operator_id"], Is.EqualTo(billing.Id));
            Assert.That((bool?)action["details"]!["had_override"], Is.False);
            Assert.That((long?)action["details"]!["value"], Is.EqualTo(FreeKeys + 3));
        });
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(FreeKeys + 3));

        var client = TestApi.Client(owner.Token);
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            client.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = $"k{i}", permissions = new[] { "runs:read" } })));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(FreeKeys + 3));
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(30 - FreeKeys - 3));
            });
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        using var reverse = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "pilot_ended" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(FreeKeys));
        using (var features = await client.GetAsync($"/v1/tenants/{tenantId}/features"))
        {
            await TestApi.ExpectAsync(features, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(features))["overrides"]!.AsArray(), Is.Empty);
        }

        using var again = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "pilot_ended" });
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "action_already_reversed");
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "quota.override_set", "quota.override_cleared" }));
    }

    [Test]
    public async Task Reversing_an_override_restores_the_override_it_replaced_and_reversing_a_removal_puts_it_back()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        await SetAsync(client, tenantId, "max_api_keys", 10, "deal_a");
        var second = await SetAsync(client, tenantId, "max_api_keys", 7, "deal_b");
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(7));

        using (var reverse = await client.PostAsJsonAsync($"/v1/admin/actions/{second["id"]}/reverse", new { reason_code = "mistake" }))
        {
            await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        }
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(10));
        var overrides = await OverridesAsync(owner.Token, tenantId);
        Assert.That(overrides, Has.Count.EqualTo(1));
        Assert.That((string?)overrides[0]!["reason"], Is.EqualTo("deal_a"));

        using var clear = await client.SendAsync(TestApi.Request(HttpMethod.Delete, $"/v1/admin/tenants/{tenantId}/quotas/max_api_keys", """{"reason_code":"deal_over"}"""));
        await TestApi.ExpectAsync(clear, HttpStatusCode.Created);
        var removal = await TestApi.ReadAsync(clear);
        Assert.That((string?)removal["action_type"], Is.EqualTo("quota.override_clear"));
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(FreeKeys));

        using (var reverse = await client.PostAsJsonAsync($"/v1/admin/actions/{removal["id"]}/reverse", new { reason_code = "mistake" }))
        {
            await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        }
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(10));
    }

    [Test]
    public async Task Quota_routes_need_billing_or_higher_and_an_operator_token()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var (_, support) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        var url = $"/v1/admin/tenants/{tenantId}/quotas/max_api_keys";
        var body = new { value = 9, reason_code = "pilot" };

        using var viewerSet = await viewer.PutAsJsonAsync(url, body);
        using var viewerClear = await viewer.SendAsync(TestApi.Request(HttpMethod.Delete, url, """{"reason_code":"x"}"""));
        using var ownerSet = await TestApi.Client(owner.Token).PutAsJsonAsync(url, body);
        using var ownerClear = await TestApi.Client(owner.Token).SendAsync(TestApi.Request(HttpMethod.Delete, url, """{"reason_code":"x"}"""));
        using var anonymous = await TestApi.Client().PutAsJsonAsync(url, body);
        await TestApi.ExpectProblemAsync(viewerSet, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(viewerClear, HttpStatusCode.Forbidden, "forbidden");
        Assert.Multiple(() =>
        {
            Assert.That(ownerSet.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(ownerClear.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(FreeKeys));

        using var supportSet = await support.PutAsJsonAsync(url, body);
        await TestApi.ExpectAsync(supportSet, HttpStatusCode.Created);
        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(9));
    }

    [Test]
    public async Task Bad_input_and_unknown_tenants_get_4xx_and_write_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        var (_, client) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        var url = $"/v1/admin/tenants/{tenantId}/quotas";

        using var noValue = await client.PutAsJsonAsync($"{url}/max_api_keys", new { reason_code = "pilot" });
        using var textValue = await client.SendAsync(TestApi.Request(HttpMethod.Put, $"{url}/max_api_keys", """{"value":"lots","reason_code":"pilot"}"""));
        using var belowMinusOne = await client.PutAsJsonAsync($"{url}/max_api_keys", new { value = -2, reason_code = "pilot" });
        using var tooBig = await client.PutAsJsonAsync($"{url}/max_api_keys", new { value = 3_000_000_000L, reason_code = "pilot" });
        using var unknownQuota = await client.PutAsJsonAsync($"{url}/max_unicorns", new { value = 5, reason_code = "pilot" });
        using var noReason = await client.PutAsJsonAsync($"{url}/max_api_keys", new { value = 5 });
        using var noBody = await client.SendAsync(TestApi.Request(HttpMethod.Delete, $"{url}/max_api_keys"));
        using var noOverride = await client.SendAsync(TestApi.Request(HttpMethod.Delete, $"{url}/max_api_keys", """{"reason_code":"deal_over"}"""));
        using var unknownTenantSet = await client.PutAsJsonAsync($"/v1/admin/tenants/{Guid.NewGuid()}/quotas/max_api_keys", new { value = 5, reason_code = "pilot" });
        using var unknownTenantClear = await client.SendAsync(TestApi.Request(HttpMethod.Delete, $"/v1/admin/tenants/{Guid.NewGuid()}/quotas/max_api_keys", """{"reason_code":"x"}"""));

        var missingValue = await TestApi.ExpectProblemAsync(noValue, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(missingValue["errors"]!.AsObject().ContainsKey("value"), Is.True);
        await TestApi.ExpectProblemAsync(textValue, HttpStatusCode.UnprocessableEntity, "validation_failed");
        var low = await TestApi.ExpectProblemAsync(belowMinusOne, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(low["errors"]!.AsObject().ContainsKey("value"), Is.True);
        await TestApi.ExpectProblemAsync(tooBig, HttpStatusCode.UnprocessableEntity, "validation_failed");
        var quota = await TestApi.ExpectProblemAsync(unknownQuota, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(quota["errors"]!.AsObject().ContainsKey("quota"), Is.True);
        await TestApi.ExpectProblemAsync(noReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(noBody, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(noOverride, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(unknownTenantSet, HttpStatusCode.NotFound, "not_found");
        await TestApi.ExpectProblemAsync(unknownTenantClear, HttpStatusCode.NotFound, "not_found");

        Assert.That(await MaxApiKeysAsync(owner.Token, tenantId), Is.EqualTo(FreeKeys));
        Assert.That(await OverridesAsync(owner.Token, tenantId), Is.Empty);
        using var list = await client.GetAsync($"/v1/admin/actions?tenant_id={tenantId}");
        Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Is.Empty);
    }

    private static async Task<JsonNode> SetAsync(HttpClient client, Guid tenantId, string quota, long value, string reasonCode)
    {
        using var response = await client.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/quotas/{quota}", new { value, reason_code = reasonCode });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return await TestApi.ReadAsync(response);
    }

    private static async Task<int?> MaxApiKeysAsync(string token, Guid tenantId)
    {
        using var response = await TestApi.Client(token).GetAsync($"/v1/tenants/{tenantId}");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (int?)(await TestApi.ReadAsync(response))["max_api_keys"];
    }

    private static async Task<JsonArray> OverridesAsync(string token, Guid tenantId)
    {
        using var response = await TestApi.Client(token).GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (await TestApi.ReadAsync(response))["overrides"]!.AsArray();
    }
}
