using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;

namespace Platform.Tests.Sso;

/// <summary>Proves SSO enforcement (ADR 0620): with enforce on, a member whose email domain the tenant claims cannot sign in with a password
/// (403 sso_required, after a correct password only); non-members, other domains, enforce off and a plan without sso are unaffected.</summary>
public sealed class SsoEnforcementTests : DatabaseTest
{
    private const string Password = "correct horse battery";

    private static async Task<(Guid Id, string Email)> SignUpAsync(string email)
    {
        using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email, password = Password, name = "Enforced" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        return (Guid.Parse((string)(await TestApi.ReadAsync(response))["user"]!["id"]!), email);
    }

    private static async Task<HttpResponseMessage> LogInAsync(string email, string password = Password) =>
        await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email, password });

    private static async Task ExpectLogInAsync(string email, HttpStatusCode status, string? code = null)
    {
        using var response = await LogInAsync(email);
        if (code is null)
        {
            await TestApi.ExpectAsync(response, status);
        }
        else
        {
            await TestApi.ExpectProblemAsync(response, status, code);
        }
    }

    private static async Task ConfigureAsync(TestUser owner, Guid tenantId, bool enforce) =>
        await SsoTestBed.ConfigureAsync(TestApi.Client(owner.Token), tenantId, new
        {
            issuer = "https://idp.enforced.example", client_id = "c", client_secret = "s", domains = new[] { "enforced.example" }, enforce,
        });

    [Test]
    public async Task Enforced_sso_blocks_the_password_of_the_tenants_members_in_its_domain_only()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        var member = await SignUpAsync($"m-{Guid.NewGuid():N}@Enforced.Example");
        var outsider = await SignUpAsync($"o-{Guid.NewGuid():N}@enforced.example");
        var otherDomain = await TestApi.MemberAsync(tenantId, "member");
        await TestApi.AddMemberAsync(tenantId, member.Id, "admin");

        await ConfigureAsync(owner, tenantId, enforce: false);
        await ExpectLogInAsync(member.Email, HttpStatusCode.OK);

        await ConfigureAsync(owner, tenantId, enforce: true);
        using (var refused = await LogInAsync(member.Email))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "sso_required");
            Assert.That((string?)problem["tenant"], Is.EqualTo(slug));
            Assert.That((string?)problem["sso_start_url"], Is.EqualTo("/v1/auth/sso/start?tenant=" + slug));
        }
        using (var wrong = await LogInAsync(member.Email, "not the password"))
        {
            await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        }
        await ExpectLogInAsync(outsider.Email, HttpStatusCode.OK);
        await ExpectLogInAsync(otherDomain.Email, HttpStatusCode.OK);
        await ExpectLogInAsync(owner.Email, HttpStatusCode.OK);

        // A downgrade lifts enforcement on the next sign-in; the settings stay.
        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Starter));
        }
        await ExpectLogInAsync(member.Email, HttpStatusCode.OK);
        await using var db = await Testing.TenantScope.OwnerAsync(tenantId);
        Assert.That(await db.ScalarAsync("SELECT enforce FROM tenant_sso_settings WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo(true));
    }
}
