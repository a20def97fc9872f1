using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;
using Platform.Tests.Operators;
using Platform.Tests.Webhooks;

namespace Platform.Tests.Plans;

/// <summary>Proves the plan feature gate (ADR 0550): 403 feature_not_in_plan naming the feature and the plans, answered from each instance's cache,
/// which a plan change or an operator's override drops on every instance before the change's answer.</summary>
public sealed class FeatureGateTests : DatabaseTest
{
    private static async Task<T> SendAsync<T>(IRequest<T> command)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }

    private static Task<HttpResponseMessage> CreateEndpointAsync(HttpClient client, Guid tenantId) =>
        client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl });

    private static async Task<List<string>> AuditAsync(Guid tenantId, string action)
    {
        await using var scope = await Testing.TenantScope.OwnerAsync(tenantId);
        await using var select = scope.Command(
            "SELECT new_values::text FROM audit_log WHERE tenant_id = @t AND action = @a ORDER BY occurred_at, id", ("t", tenantId), ("a", action));
        var rows = new List<string>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    [Test]
    public async Task A_plan_without_the_feature_gets_403_naming_the_feature_and_the_plans_that_have_it()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync(PlanCatalog.Free);
        using var refused = await CreateEndpointAsync(client, tenantId);
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        Assert.Multiple(() =>
        {
            Assert.That((string?)problem["feature"], Is.EqualTo(Features.Webhooks));
            Assert.That(problem["plans"]!.AsArray().Select(p => (string?)p), Is.EqualTo(new[] { "starter", "professional", "enterprise" }));
            Assert.That((string?)problem["detail"], Does.Contain("webhooks").And.Contain("starter"));
        });
    }

    [Test]
    public async Task A_stranger_gets_404_on_a_gated_route_not_a_403_that_confirms_the_tenant()
    {
        var (_, tenantId, _) = await EndpointSetup.TenantAsync(PlanCatalog.Free);
        var stranger = await TestApi.SignUpAsync();
        using var response = await CreateEndpointAsync(TestApi.Client(stranger.Token), tenantId);
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Upgrade_allows_and_downgrade_refuses_on_the_next_request_of_another_instance_and_records_features_lost()
    {
        var (owner, tenantId, _) = await EndpointSetup.TenantAsync(PlanCatalog.Free);
        using var hostB = Keys.NewHost();
        var clientB = hostB.Client(owner.Token);
        await Keys.WaitUntilListeningAsync(hostB.Services);
        await Keys.WaitUntilListeningAsync(TestApi.Services);

        using (var refused = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        }
        // B now holds the tenant's free features in its cache.
        Assert.That(hostB.Services.GetRequiredService<TenantFeatureCache>().TryGet(tenantId, out var cached), Is.True);
        Assert.That(cached.Features, Does.Not.Contain(Features.Webhooks));

        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Starter));
        using (var allowed = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.Created);
        }
        Assert.That(hostB.Services.GetRequiredService<TenantFeatureCache>().TryGet(tenantId, out var upgraded), Is.True);
        Assert.That(upgraded.Features, Does.Contain(Features.Webhooks));

        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Free));
        using (var again = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectProblemAsync(again, HttpStatusCode.Forbidden, "feature_not_in_plan");
        }
        // The data stays: the endpoint created on starter is still listed.
        using (var list = await clientB.GetAsync(EndpointSetup.Endpoints(tenantId)))
        {
            await TestApi.ExpectAsync(list, HttpStatusCode.OK);
            Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Has.Count.EqualTo(1));
        }
        var lost = await AuditAsync(tenantId, "tenant.features_lost");
        Assert.That(lost, Has.Count.EqualTo(1));
        Assert.That(lost[0], Does.Contain("\"features_lost\": [\"webhooks\"]"));
    }

    [Test]
    public async Task An_operator_revokes_a_feature_for_one_tenant_at_once_on_every_instance_and_reversing_restores_it()
    {
        var (owner, tenantId, _) = await EndpointSetup.TenantAsync(PlanCatalog.Starter);
        var (_, otherTenant, otherClient) = await EndpointSetup.TenantAsync(PlanCatalog.Starter);
        using var hostB = Keys.NewHost();
        var clientB = hostB.Client(owner.Token);
        await Keys.WaitUntilListeningAsync(hostB.Services);
        using (var first = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.Created);
        }
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        var (_, super) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var revoke = await billing.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/features/webhooks",
            new { enabled = false, reason_code = "abuse", reason_note = "spam endpoints" });
        await TestApi.ExpectAsync(revoke, HttpStatusCode.Created);
        var action = await TestApi.ReadAsync(revoke);
        Assert.That((string?)action["action_type"], Is.EqualTo("feature.override_set"));

        using (var refused = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        }
        using (var other = await CreateEndpointAsync(otherClient, otherTenant))
        {
            await TestApi.ExpectAsync(other, HttpStatusCode.Created);
        }

        using var reverse = await super.PostAsJsonAsync($"/v1/admin/actions/{action["id"]}/reverse", new { reason_code = "resolved" });
        await TestApi.ExpectAsync(reverse, HttpStatusCode.Created);
        using (var allowed = await CreateEndpointAsync(clientB, tenantId))
        {
            await TestApi.ExpectAsync(allowed, HttpStatusCode.Created);
        }
        Assert.That(await FounderActionTests.OperatorAuditActionsAsync(tenantId), Is.EqualTo(new[] { "feature.override_set", "feature.override_cleared" }));
    }

    [Test]
    public async Task An_operator_grants_a_feature_the_plan_lacks_and_unknown_features_are_refused_with_the_field_named()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync(PlanCatalog.Free);
        var (_, billing) = await OperatorTestSupport.SignedInAsync("billing", totp: false);
        using (var unknown = await billing.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/features/teleport", new { enabled = true, reason_code = "pilot" }))
        {
            var problem = await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!["feature"], Is.Not.Null);
        }
        using (var missing = await billing.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/features/webhooks", new { reason_code = "pilot" }))
        {
            var problem = await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]!["enabled"], Is.Not.Null);
        }
        using (var grant = await billing.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/features/webhooks", new { enabled = true, reason_code = "pilot" }))
        {
            await TestApi.ExpectAsync(grant, HttpStatusCode.Created);
        }
        using (var features = await client.GetAsync($"/v1/tenants/{tenantId}/features"))
        {
            await TestApi.ExpectAsync(features, HttpStatusCode.OK);
            Assert.That(((System.Text.Json.Nodes.JsonNode)(await TestApi.ReadAsync(features)))["features"]!.AsArray().Select(f => (string?)f), Does.Contain("webhooks"));
        }
        // The gate lets it through; the free plan's webhook_endpoints quota (0) answers next.
        using var create = await CreateEndpointAsync(client, tenantId);
        Assert.That(create.StatusCode, Is.Not.EqualTo(HttpStatusCode.Forbidden));
    }
}
