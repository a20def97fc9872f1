using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Gdpr;
using Platform.Tests.Sso;

namespace Platform.Tests.Gdpr;

/// <summary>Proves that identity data does not outlive its owner (ADR 0734): a purged tenant's SSO email domain claims and custom domain names are
/// released (another tenant can claim the domain), and erasing a user removes their identity-provider links in every tenant, not another user's.</summary>
public sealed class IdentityReleaseTests : DatabaseTest
{
    private static async Task<long> RegistryRowsAsync(Guid tenantId)
    {
        // The registries admit only platform_xt (forced RLS); the schema owner is a member of it.
        await using var scope = await Testing.TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync("SET LOCAL ROLE platform_xt");
        return (long)(await scope.ScalarAsync(
            "SELECT (SELECT count(*) FROM sso_domain_claims WHERE tenant_id = @t) + (SELECT count(*) FROM custom_domain_names WHERE tenant_id = @t)",
            ("t", tenantId)))!;
    }

    private static object Settings(string domain) => new { issuer = "https://idp.release.example", client_id = "c", client_secret = "s", domains = new[] { domain } };

    [Test]
    public async Task A_purged_tenant_releases_its_sso_domain_claims_and_custom_domain_names()
    {
        var domain = $"rel-{Guid.NewGuid():N}"[..16] + ".example.test";
        var (owner, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        using (var added = await TestApi.Client(owner.Token).PostAsJsonAsync($"/v1/tenants/{tenantId}/domains", new { name = domain }))
        {
            await TestApi.ExpectAsync(added, HttpStatusCode.Created);
        }
        await SsoTestBed.ConfigureAsync(TestApi.Client(owner.Token), tenantId, Settings(domain));
        Assert.That(await RegistryRowsAsync(tenantId), Is.EqualTo(2), "one SSO claim and one domain name");
        Assert.That(await OwnerSql.ScalarAsync<Guid?>("SELECT sso_tenant_by_domain(@d)", null, ("d", domain)), Is.EqualTo(tenantId));

        var (rival, rivalTenant, _) = await SsoTestBed.EnterpriseTenantAsync();
        using (var taken = await SsoTestBed.PutSettingsAsync(TestApi.Client(rival.Token), rivalTenant, Settings(domain)))
        {
            await TestApi.ExpectProblemAsync(taken, HttpStatusCode.Conflict, "domain_claimed");
        }

        // The tenant is deleted, then purged after the retention window.
        using (var deleted = await TestApi.Client(owner.Token).DeleteAsync($"/v1/tenants/{tenantId}"))
        {
            await TestApi.ExpectAsync(deleted, HttpStatusCode.OK);
        }
        Assert.That(await RegistryRowsAsync(tenantId), Is.EqualTo(2), "a soft-deleted tenant keeps its names until the purge");
        await OwnerSql.ScalarAsync<object>("UPDATE tenants SET deleted_at = now() - interval '31 days' WHERE id = @t", tenantId, ("t", tenantId));
        using (var scope = TestApi.Services.CreateScope())
        {
            Assert.That(await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new PurgeDeletedTenants()), Does.Contain(tenantId));
        }

        Assert.That(await RegistryRowsAsync(tenantId), Is.Zero);
        Assert.That(await OwnerSql.ScalarAsync<Guid?>("SELECT sso_tenant_by_domain(@d)", null, ("d", domain)), Is.Null);
        using (var claimed = await SsoTestBed.PutSettingsAsync(TestApi.Client(rival.Token), rivalTenant, Settings(domain)))
        {
            await TestApi.ExpectAsync(claimed, HttpStatusCode.OK);
        }
    }

    [Test]
    public async Task The_release_function_refuses_a_tenant_that_still_exists()
    {
        var (_, tenantId, _) = await SsoTestBed.EnterpriseTenantAsync();
        await using var scope = await Testing.TenantScope.AppAsync(tenantId);
        var refused = Assert.ThrowsAsync<Npgsql.PostgresException>(async () => await scope.ScalarAsync("SELECT release_purged_tenant_names(@t)", ("t", tenantId)));
        Assert.That(refused!.SqlState, Is.EqualTo("55006"));
    }

    [Test]
    public async Task Erasing_a_user_removes_their_sso_identities_in_every_tenant_and_keeps_other_users_links()
    {
        var (ownerA, tenantA, _) = await SsoTestBed.EnterpriseTenantAsync();
        var (ownerB, tenantB, _) = await SsoTestBed.EnterpriseTenantAsync();
        var erased = await TestApi.SignUpAsync();
        var kept = await TestApi.SignUpAsync();
        foreach (var (tenant, user, subject) in new[] { (tenantA, erased, "e-a"), (tenantB, erased, "e-b"), (tenantA, kept, "k-a") })
        {
            await using var db = await Testing.TenantScope.OwnerAsync(tenant);
            await db.ExecuteAsync(
                "INSERT INTO sso_identities (tenant_id, issuer, subject, user_id, created_at, last_login_at) VALUES (@t, 'https://idp.example', @s, @u, now(), now())",
                ("t", tenant), ("s", subject), ("u", user.Id));
            await db.CommitAsync();
        }

        using (var response = await TestApi.Client(erased.Token).DeleteAsync("/v1/me"))
        {
            await TestApi.ExpectAsync(response, HttpStatusCode.NoContent);
        }
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM sso_identities WHERE user_id = @u", tenantA, ("u", erased.Id)), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM sso_identities WHERE user_id = @u", tenantB, ("u", erased.Id)), Is.Zero);
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM sso_identities WHERE user_id = @u", tenantA, ("u", kept.Id)), Is.EqualTo(1));
        });
        _ = (ownerA, ownerB);
    }
}
