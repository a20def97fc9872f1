using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.ApiKeys;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Operators;

public sealed class AdminKeyFreezeTests : DatabaseTest
{
    [Test]
    public async Task A_frozen_key_is_refused_on_its_next_request_and_works_again_after_reversal()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        var keyClient = TestApi.Client(key.Secret);
        var (support, supportClient) = await OperatorTestSupport.SignedInAsync("support", totp: false);
        var (_, superClient) = await OperatorTestSupport.SignedInAsync("super_admin");
        using (var warm = await keyClient.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectAsync(warm, HttpStatusCode.OK);
        }

        using var freeze = await supportClient.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "abuse", reason_note = "scraping" });
        await TestApi.ExpectAsync(freeze, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(freeze);
        Assert.Multiple(() =>
        {
            Assert.That((string?)action["action_type"], Is.EqualTo("api_key.freeze"));
            Assert.That((string?)action["target_type"], Is.EqualTo("api_key"));
            Assert.That((string?)action["target_id"], Is.EqualTo(key.Id.ToString()));
            Assert.That((Guid?)action["tenant_id"], Is.EqualTo(tenantId));
            Assert.That((Guid?)action["operator_id"], Is.EqualTo(support.Id));
            Assert.That((bool?)action["reversible"], Is.True);
        });
        using (var refused = await keyClient.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }
        var row = await Keys.ReadRowAsync(tenantId, "SELECT frozen_reason FROM api_keys WHERE id = @id", ("id", key.Id));
        Assert.That(row!["frozen_reason"], Is.EqualTo("abuse: scraping"));

        using var reverse = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "appeal_accepted" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        using (var works = await keyClient.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectAsync(works, HttpStatusCode.OK);
        }

        using var again = await superClient.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "appeal_accepted" });
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Conflict, "action_already_reversed");
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "api_key.frozen", "api_key.unfrozen" }));
    }

    [Test]
    public async Task A_freeze_through_one_instance_is_refused_at_once_by_another_that_cached_the_key()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, superAdmin) = await OperatorTestSupport.SignedInAsync("super_admin");
        using var hostB = Keys.NewHost();
        var keyOnB = hostB.Client(key.Secret);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        await Keys.WaitUntilListeningAsync(hostB.Services);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await keyOnB.GetAsync("/v1/tenants/current/features");
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        Assert.That(hostB.Services.GetRequiredService<ApiKeyCache>().Count, Is.EqualTo(1));

        using var freeze = await superAdmin.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "abuse" });
        await TestApi.ExpectAsync(freeze, HttpStatusCode.Created);
        using (var refused = await keyOnB.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var reverse = await superAdmin.PostAsync($"/v1/admin/actions/{(await TestApi.ReadAsync(freeze))["id"]}/reverse", null);
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        using var works = await keyOnB.GetAsync("/v1/tenants/current/features");
        await TestApi.ExpectAsync(works, HttpStatusCode.OK);
    }

    [Test]
    public async Task Reversing_an_unfreeze_freezes_the_key_again_with_its_earlier_reason()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        await Keys.WaitUntilListeningAsync(TestApi.Services);
        var keyClient = TestApi.Client(key.Secret);
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        using (var freeze = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "chargeback" }))
        {
            await TestApi.ExpectAsync(freeze, HttpStatusCode.Created);
        }

        using var unfreeze = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/unfreeze", new { reason_code = "paid", reason_note = "card updated" });
        await TestApi.ExpectAsync(unfreeze, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(unfreeze);
        Assert.That((string?)action["action_type"], Is.EqualTo("api_key.unfreeze"));
        using (var works = await keyClient.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectAsync(works, HttpStatusCode.OK);
        }

        using var reverse = await client.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "card_declined_again" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        using (var refused = await keyClient.GetAsync("/v1/tenants/current/features"))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }
        var row = await Keys.ReadRowAsync(tenantId, "SELECT frozen_reason FROM api_keys WHERE id = @id", ("id", key.Id));
        Assert.That(row!["frozen_reason"], Is.EqualTo("chargeback"));
    }

    [Test]
    public async Task Exactly_one_of_20_parallel_freezes_of_one_key_succeeds()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, client) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "abuse" })));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(19));
            });
            await TestApi.ExpectProblemAsync(responses.First(r => r.StatusCode == HttpStatusCode.Conflict), HttpStatusCode.Conflict, "already_frozen");
            using var list = await client.GetAsync($"/v1/admin/actions?tenant_id={tenantId}");
            Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "api_key.frozen" }));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Test]
    public async Task Exactly_one_of_20_parallel_reversals_of_a_freeze_succeeds()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");
        using var freeze = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "abuse" });
        var actionId = (string)(await TestApi.ReadAsync(freeze))["id"]!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsync($"/v1/admin/actions/{actionId}/reverse", null)));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(19));
            });
            Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "api_key.frozen", "api_key.unfrozen" }));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Test]
    public async Task Freezing_needs_support_or_higher_and_an_operator_token()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, viewer) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        var body = new { reason_code = "abuse" };

        using var viewerFreeze = await viewer.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", body);
        using var billingFreeze = await billing.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", body);
        using var viewerUnfreeze = await viewer.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/unfreeze", body);
        using var ownerFreeze = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", body);
        using var keyFreeze = await TestApi.Client(key.Secret).PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", body);
        using var anonymous = await TestApi.Client().PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/unfreeze", body);

        await TestApi.ExpectProblemAsync(viewerFreeze, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(billingFreeze, HttpStatusCode.Forbidden, "forbidden");
        await TestApi.ExpectProblemAsync(viewerUnfreeze, HttpStatusCode.Forbidden, "forbidden");
        Assert.Multiple(() =>
        {
            Assert.That(ownerFreeze.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(keyFreeze.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
        var row = await Keys.ReadRowAsync(tenantId, "SELECT frozen_at FROM api_keys WHERE id = @id", ("id", key.Id));
        Assert.That(row!["frozen_at"], Is.Null);
    }

    [Test]
    public async Task Bad_input_and_unknown_keys_get_4xx_and_write_nothing()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var key = await Keys.CreateAsync(owner.Token, tenantId);
        var (_, client) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        using var noReason = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_note = "x" });
        using var badReason = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "Not A Code" });
        using var longNote = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/freeze", new { reason_code = "abuse", reason_note = new string('n', 2001) });
        using var brokenJson = await client.SendAsync(TestApi.Request(HttpMethod.Post, $"/v1/admin/api-keys/{key.Id}/freeze", "{\"reason_code\":"));
        using var unknownKey = await client.PostAsJsonAsync($"/v1/admin/api-keys/{Guid.NewGuid()}/freeze", new { reason_code = "abuse" });
        using var notAGuid = await client.PostAsJsonAsync("/v1/admin/api-keys/nope/freeze", new { reason_code = "abuse" });
        using var notFrozen = await client.PostAsJsonAsync($"/v1/admin/api-keys/{key.Id}/unfreeze", new { reason_code = "paid" });

        var missing = await TestApi.ExpectProblemAsync(noReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(missing["errors"]!.AsObject().ContainsKey("reason_code"), Is.True);
        await TestApi.ExpectProblemAsync(badReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(longNote, HttpStatusCode.UnprocessableEntity, "validation_failed");
        await TestApi.ExpectProblemAsync(brokenJson, HttpStatusCode.BadRequest, "validation_failed");
        await TestApi.ExpectProblemAsync(unknownKey, HttpStatusCode.NotFound, "not_found");
        Assert.That(notAGuid.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        await TestApi.ExpectProblemAsync(notFrozen, HttpStatusCode.Conflict, "not_frozen");

        using var list = await client.GetAsync($"/v1/admin/actions?tenant_id={tenantId}");
        Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Is.Empty);
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.Empty);
    }
}
