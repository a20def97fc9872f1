using System.Net;

namespace Platform.Tests.Tenancy;

/// <summary>Checks every tenant route of the foundation against the three refusals: no token 401, other tenant 404, viewer write 403.</summary>
public sealed class TenantRouteMatrixTests : DatabaseTest
{
    /// <summary>Lists the tenant routes: verb, path after /v1/tenants/{tid}, a body, and whether it writes.</summary>
    public static IEnumerable<TestCaseData> Routes()
    {
        yield return new TestCaseData("GET", "", null, false).SetArgDisplayNames("GET tenant");
        yield return new TestCaseData("PATCH", "", """{"name":"x"}""", true).SetArgDisplayNames("PATCH tenant");
        yield return new TestCaseData("DELETE", "", null, true).SetArgDisplayNames("DELETE tenant");
        yield return new TestCaseData("GET", "/members", null, false).SetArgDisplayNames("GET members");
        yield return new TestCaseData("PATCH", "/members/{owner}", """{"role":"admin"}""", true).SetArgDisplayNames("PATCH member");
        yield return new TestCaseData("DELETE", "/members/{owner}", null, true).SetArgDisplayNames("DELETE member");
    }

    [TestCaseSource(nameof(Routes))]
    public async Task No_token_gets_401(string verb, string path, string? body, bool writes)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        using var response = await TestApi.Client().SendAsync(TestApi.Request(new HttpMethod(verb), Url(tenant, path, owner), body));
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [TestCaseSource(nameof(Routes))]
    public async Task Another_tenants_member_gets_404(string verb, string path, string? body, bool writes)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var outsider = await TestApi.SignUpAsync();
        await TestApi.CreateTenantAsync(outsider);
        using var response = await TestApi.Client(outsider.Token).SendAsync(TestApi.Request(new HttpMethod(verb), Url(tenant, path, owner), body));
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    [TestCaseSource(nameof(Routes))]
    public async Task A_viewer_reads_but_cannot_write(string verb, string path, string? body, bool writes)
    {
        var owner = await TestApi.SignUpAsync();
        var tenant = await TestApi.CreateTenantAsync(owner);
        var viewer = await TestApi.MemberAsync(tenant, "viewer");
        using var response = await TestApi.Client(viewer.Token).SendAsync(TestApi.Request(new HttpMethod(verb), Url(tenant, path, owner), body));
        if (writes)
        {
            await TestApi.ExpectProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
        }
        else
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        }
    }

    [Test]
    public async Task A_tenant_id_that_is_not_a_uuid_gets_404()
    {
        var owner = await TestApi.SignUpAsync();
        using var response = await TestApi.Client(owner.Token).GetAsync("/v1/tenants/not-a-uuid/members");
        await TestApi.ExpectProblemAsync(response, HttpStatusCode.NotFound, "not_found");
    }

    private static string Url(Guid tenant, string path, TestUser owner) =>
        $"/v1/tenants/{tenant}{path.Replace("{owner}", owner.Id.ToString(), StringComparison.Ordinal)}";
}
