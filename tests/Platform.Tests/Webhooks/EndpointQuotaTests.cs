using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;

namespace Platform.Tests.Webhooks;

/// <summary>The webhook_endpoints quota (free 0, starter 3, professional 10, enterprise unlimited) with the operator's overrides, under concurrency.</summary>
public sealed class EndpointQuotaTests : DatabaseTest
{
    [Test]
    public async Task Thirty_parallel_creations_at_a_quota_of_three_create_exactly_three()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("starter");
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = $"{EndpointSetup.PublicUrl}/{i}" })));
        try
        {
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(3));
                Assert.That(refused, Has.Count.EqualTo(27));
            });
            var problem = await TestApi.ExpectProblemAsync(refused[0], HttpStatusCode.TooManyRequests, "quota_exceeded");
            Assert.Multiple(() =>
            {
                Assert.That((string?)problem["quota"], Is.EqualTo("webhook_endpoints"));
                Assert.That((long?)problem["limit"], Is.EqualTo(3));
                Assert.That((long?)problem["current"], Is.EqualTo(3));
            });
            Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(3));
            Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM audit_log WHERE action = 'webhook.endpoint_created'"), Is.EqualTo(3));
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
    public async Task A_deleted_endpoint_frees_its_place()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("starter");
        var first = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        await EndpointSetup.CreateAsync(client, tenantId);
        await EndpointSetup.CreateAsync(client, tenantId);
        using (var fourth = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl }))
        {
            await TestApi.ExpectProblemAsync(fourth, HttpStatusCode.TooManyRequests, "quota_exceeded");
        }
        using (var delete = await client.DeleteAsync($"{EndpointSetup.Endpoints(tenantId)}/{first}"))
        {
            await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
        }
        await EndpointSetup.CreateAsync(client, tenantId);
    }

    [TestCase(5, 5)]
    [TestCase(1, 1)]
    [TestCase(-1, 12)]
    public async Task An_operator_override_replaces_the_plans_quota_under_parallel_creations(long overrideValue, int expected)
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("starter");
        // The operators' override command (the one behind PUT /v1/admin/tenants/{tid}/quotas/{quota}).
        var entitlements = await SendAsync(new SetQuotaOverride(Caller.Operator(Guid.NewGuid(), "support"), tenantId, Quotas.WebhookEndpoints, overrideValue, "deal"));
        Assert.That(entitlements.Quotas.WebhookEndpoints, Is.EqualTo(overrideValue));
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = $"{EndpointSetup.PublicUrl}/{i}" })));
        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(expected));
        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(12 - expected));
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(expected));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    public async Task A_downgrade_to_a_plan_without_webhooks_keeps_the_endpoints_but_refuses_changes_except_delete()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("starter");
        var id = EndpointSetup.IdOf(await EndpointSetup.CreateAsync(client, tenantId));
        await EndpointSetup.CreateAsync(client, tenantId);
        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "free"));

        using (var create = await client.PostAsJsonAsync(EndpointSetup.Endpoints(tenantId), new { url = EndpointSetup.PublicUrl }))
        {
            await TestApi.ExpectProblemAsync(create, HttpStatusCode.Forbidden, "feature_not_in_plan");
        }
        using (var patch = await client.PatchAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}", JsonContent.Create(new { description = "x" })))
        {
            await TestApi.ExpectProblemAsync(patch, HttpStatusCode.Forbidden, "feature_not_in_plan");
        }
        using (var list = await client.GetAsync(EndpointSetup.Endpoints(tenantId)))
        {
            Assert.That((await TestApi.ReadAsync(list))["data"]!.AsArray(), Has.Count.EqualTo(2));
        }
        using (var delete = await client.DeleteAsync($"{EndpointSetup.Endpoints(tenantId)}/{id}"))
        {
            await TestApi.ExpectAsync(delete, HttpStatusCode.OK);
        }
        Assert.That(await EndpointSetup.CountAsync(tenantId, "SELECT count(*) FROM webhook_endpoints"), Is.EqualTo(1));
    }

    [Test]
    public async Task The_entitlements_name_the_quota_with_the_plans_value()
    {
        var (_, tenantId, client) = await EndpointSetup.TenantAsync("professional");
        using var response = await client.GetAsync($"/v1/tenants/{tenantId}/features");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        Assert.That(body.ToJsonString(), Does.Contain("\"webhook_endpoints\":10"));
    }

    private static async Task<T> SendAsync<T>(IRequest<T> command)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }
}
