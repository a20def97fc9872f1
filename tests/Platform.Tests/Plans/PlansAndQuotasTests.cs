using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Api.Hosting;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Plans;

public sealed class PlansAndQuotasTests : DatabaseTest
{
    private static async Task<T> SendAsync<T>(IRequest<T> command)
    {
        using var scope = TestApi.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> GetAsync(string token, string url)
    {
        using var response = await TestApi.Client(token).GetAsync(url);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return await TestApi.ReadAsync(response);
    }

    [Test]
    public void The_catalogue_holds_the_issues_figures()
    {
        var free = PlanCatalog.Get("free").Limits;
        var starter = PlanCatalog.Get("starter");
        var professional = PlanCatalog.Get("professional");
        var enterprise = PlanCatalog.Get("enterprise");
        Assert.Multiple(() =>
        {
            Assert.That((free.ApiCallsPerMonth, free.StorageGb, free.GpuHoursPerMonth, free.Members), Is.EqualTo((10_000L, 10L, 5L, 5)));
            Assert.That(starter.PriceMonthlyCents, Is.EqualTo(4_900));
            Assert.That((starter.Limits.ApiCallsPerMonth, starter.Limits.StorageGb, starter.Limits.GpuHoursPerMonth, starter.Limits.Members), Is.EqualTo((100_000L, 100L, 50L, 10)));
            Assert.That(professional.PriceMonthlyCents, Is.EqualTo(19_900));
            Assert.That((professional.Limits.ApiCallsPerMonth, professional.Limits.StorageGb, professional.Limits.GpuHoursPerMonth, professional.Limits.Members), Is.EqualTo((1_000_000L, 1_000L, 200L, 50)));
            Assert.That(enterprise.PriceMonthlyCents, Is.EqualTo(99_900));
            Assert.That(Quotas.All.Where(q => q != Quotas.RetentionDays).Select(q => Quotas.ValueOf(enterprise.Limits, q)), Is.All.EqualTo(-1L));
            Assert.That(PlanCatalog.All.SelectMany(p => p.Features).Distinct(), Is.SubsetOf(Features.All));
        });
    }

    [Test]
    public async Task The_features_route_lists_what_the_plan_grants()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var body = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}/features");
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["plan"], Is.EqualTo("starter"));
            Assert.That(body["features"]!.AsArray().Select(f => (string?)f), Is.EqualTo(new[] { "webhooks" }));
            Assert.That((bool?)body["all_features"]!["sso"], Is.False);
            Assert.That((long?)body["quotas"]!["max_api_keys"], Is.EqualTo(5));
            Assert.That((long?)body["quotas"]!["api_calls_per_month"], Is.EqualTo(100_000));
        });
    }

    [Test]
    public async Task A_plan_change_updates_the_quota_columns_and_features_at_once()
    {
        var owner = await TestApi.SignUpAsync();
        // A paying (active) tenant: a trialling one keeps its trial's finite limits on any plan (ADR 0520).
        var tenantId = await TestTenant.New(owner).WithPlan("starter").WithStatus("active").CreateAsync();
        var changed = await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "professional"));
        Assert.That(changed.Tenant.MaxApiKeys, Is.EqualTo(20));

        var tenant = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}");
        Assert.Multiple(() =>
        {
            Assert.That((string?)tenant["plan"], Is.EqualTo("professional"));
            Assert.That((int?)tenant["max_api_keys"], Is.EqualTo(20));
            Assert.That((int?)tenant["max_concurrent_runs"], Is.EqualTo(20));
            Assert.That((int?)tenant["max_runs_per_day"], Is.EqualTo(10_000));
            Assert.That((long?)tenant["max_tokens_per_month"], Is.EqualTo(10_000_000));
            Assert.That((int?)tenant["max_workers"], Is.EqualTo(20));
        });
        var features = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}/features");
        Assert.That(features["features"]!.AsArray().Select(f => (string?)f), Does.Contain("custom_domain"));

        // The owner may change it too; an admin may not.
        await SendAsync(new ChangeTenantPlan(Caller.User(owner.Id), tenantId, "enterprise"));
        var admin = await TestApi.MemberAsync(tenantId, "admin");
        Assert.ThrowsAsync<ForbiddenException>(async () => await SendAsync(new ChangeTenantPlan(Caller.User(admin.Id), tenantId, "free")));
        var stranger = await TestApi.SignUpAsync();
        Assert.ThrowsAsync<NotFoundException>(async () => await SendAsync(new ChangeTenantPlan(Caller.User(stranger.Id), tenantId, "free")));
        Assert.ThrowsAsync<ValidationFailedException>(async () => await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "platinum")));
        var after = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}");
        Assert.That((int?)after["max_api_keys"], Is.EqualTo(-1));
    }

    [Test]
    public async Task A_lower_max_api_keys_after_a_plan_change_refuses_new_keys_at_once()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "professional");
        for (var i = 0; i < 3; i++)
        {
            await Keys.CreateAsync(owner.Token, tenantId);
        }
        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "free"));
        using var refused = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "k", permissions = new[] { "runs:read" } });
        var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota_exceeded");
        Assert.That((long?)problem["limit"], Is.EqualTo(2));
    }

    [Test]
    public async Task An_override_applies_on_top_of_the_plan_and_survives_plan_changes_until_cleared()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "starter");
        var operatorCaller = Caller.Operator(Guid.NewGuid(), "support");
        var set = await SendAsync(new SetQuotaOverride(operatorCaller, tenantId, Quotas.MaxApiKeys, 50, "enterprise pilot"));
        await SendAsync(new SetQuotaOverride(operatorCaller, tenantId, Quotas.ApiCallsPerMonth, 5_000_000, null));
        Assert.That(set.Quotas.MaxApiKeys, Is.EqualTo(50));

        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "professional"));
        var tenant = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}");
        var features = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}/features");
        Assert.Multiple(() =>
        {
            Assert.That((string?)tenant["plan"], Is.EqualTo("professional"));
            Assert.That((int?)tenant["max_api_keys"], Is.EqualTo(50));
            Assert.That((int?)tenant["max_concurrent_runs"], Is.EqualTo(20));
            Assert.That((long?)features["quotas"]!["max_api_keys"], Is.EqualTo(50));
            Assert.That((long?)features["quotas"]!["api_calls_per_month"], Is.EqualTo(5_000_000));
            Assert.That(features["overrides"]!.AsArray(), Has.Count.EqualTo(2));
        });

        await SendAsync(new ClearQuotaOverride(operatorCaller, tenantId, Quotas.MaxApiKeys));
        var cleared = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}");
        Assert.That((int?)cleared["max_api_keys"], Is.EqualTo(20));
        Assert.ThrowsAsync<NotFoundException>(async () => await SendAsync(new ClearQuotaOverride(operatorCaller, tenantId, Quotas.MaxApiKeys)));
        var audit = await Keys.ReadRowAsync(tenantId, "SELECT count(*) AS n FROM audit_log WHERE action LIKE 'quota.override%'");
        Assert.That(audit!["n"], Is.EqualTo(3L));
    }

    [Test]
    public async Task Only_operators_and_the_system_set_overrides_and_bad_overrides_are_refused()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        Assert.ThrowsAsync<ForbiddenException>(async () => await SendAsync(new SetQuotaOverride(Caller.User(owner.Id), tenantId, Quotas.MaxApiKeys, 99, null)));
        Assert.ThrowsAsync<ForbiddenException>(async () => await SendAsync(new ClearQuotaOverride(Caller.User(owner.Id), tenantId, Quotas.MaxApiKeys)));
        var bad = Assert.ThrowsAsync<ValidationFailedException>(async () => await SendAsync(new SetQuotaOverride(Caller.System, tenantId, "max_unicorns", 1, null)));
        Assert.That(bad!.Errors.Keys, Does.Contain("quota"));
        Assert.ThrowsAsync<ValidationFailedException>(async () => await SendAsync(new SetQuotaOverride(Caller.System, tenantId, Quotas.MaxApiKeys, -2, null)));
        Assert.ThrowsAsync<ValidationFailedException>(async () => await SendAsync(new SetQuotaOverride(Caller.System, tenantId, Quotas.MaxWorkers, 3_000_000_000, null)));
        Assert.ThrowsAsync<NotFoundException>(async () => await SendAsync(new SetQuotaOverride(Caller.System, Guid.NewGuid(), Quotas.MaxApiKeys, 1, null)));
        var tenant = await GetAsync(owner.Token, $"/v1/tenants/{tenantId}");
        Assert.That((int?)tenant["max_api_keys"], Is.EqualTo(20));
    }

    [Test]
    public async Task A_route_gated_by_a_feature_answers_403_feature_not_in_plan_until_the_plan_has_it()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.AddPlatformApi();
        await using var app = builder.Build();
        app.UsePlatformApi();
        app.MapTenantGroup("/sso-probe").MapGet("/", () => TypedResults.Ok("sso")).RequireFeature(Features.Sso);
        await app.StartAsync();
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner, plan: "professional");
        var client = app.GetTestClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.Token);

        using var refused = await client.GetAsync($"/v1/tenants/{tenantId}/sso-probe");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
        var stranger = await TestApi.SignUpAsync();
        using var hidden = await app.GetTestClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/tenants/{tenantId}/sso-probe")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", stranger.Token) },
        });
        await TestApi.ExpectProblemAsync(hidden, HttpStatusCode.NotFound, "not_found");

        await SendAsync(new ChangeTenantPlan(Caller.System, tenantId, "enterprise"));
        using var allowed = await client.GetAsync($"/v1/tenants/{tenantId}/sso-probe");
        await TestApi.ExpectAsync(allowed, HttpStatusCode.OK);
        await app.StopAsync();
    }
}
