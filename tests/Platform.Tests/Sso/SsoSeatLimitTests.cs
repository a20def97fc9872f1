using System.Net;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Sso;

/// <summary>Proves that just-in-time SSO membership takes a seat (ADR 0732): beyond the tenant's effective members limit (here an operator's
/// override) the callback refuses with 403 sso_refused, reason seat_limit_reached, audits it and creates nobody; an existing member still signs in;
/// a raised limit admits the next one.</summary>
public sealed class SsoSeatLimitTests : DatabaseTest
{
    private WebApplicationFactory<Program> host = null!;
    private OidcProviderProcess provider = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        host = SsoTestBed.LoopbackHost();
        provider = await OidcProviderProcess.StartAsync(("seats", "seats-secret"));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await provider.DisposeAsync();
        host.Dispose();
    }

    private static async Task LimitMembersAsync(Guid tenantId, long limit)
    {
        using var scope = TestApi.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IMediator>().Send(
            new SetQuotaOverride(Caller.Operator(Guid.NewGuid(), "support"), tenantId, Quotas.Members, limit, "seat test"));
    }

    [Test]
    public async Task A_sign_in_that_would_exceed_the_seat_limit_is_refused_audited_and_creates_nobody()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        var domain = $"seats-{Guid.NewGuid():N}"[..18] + ".example";
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, new
        {
            issuer = provider.Issuer, client_id = "seats", client_secret = "seats-secret", domains = new[] { domain }, default_role = "member",
        });
        // Two seats: the owner holds one.
        await LimitMembersAsync(tenantId, 2);
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var first = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "first-1", new { email = $"first@{domain}", email_verified = true });
        Assert.That((string?)first["user"]!["email"], Is.EqualTo($"first@{domain}"));

        var authorize = await SsoTestBed.StartAsync(api, "tenant=" + slug);
        await provider.NextLoginAsync("second-2", new { email = $"second@{domain}", email_verified = true });
        using (var refused = await SsoTestBed.CallbackAsync(api, await OidcProviderProcess.AuthorizeAsync(authorize)))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "sso_refused");
            Assert.That((string?)problem["reason"], Is.EqualTo("seat_limit_reached"));
            Assert.That((string?)problem["detail"], Does.Contain("no free seat"));
        }
        var audit = await SsoTestBed.AuditAsync(tenantId, "sso.sign_in_refused");
        Assert.That(audit, Has.Count.EqualTo(1));
        Assert.That(audit[0].NewValues, Does.Contain("seat_limit_reached").And.Contain($"second@{domain}"));
        Assert.Multiple(async () =>
        {
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships WHERE tenant_id = @t", tenantId, ("t", tenantId)), Is.EqualTo(2));
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM sso_identities WHERE subject = 'second-2'", tenantId), Is.Zero, "the refusal rolled back");
        });

        // A member signing in again takes no new seat.
        await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "first-1", new { email = $"first@{domain}", email_verified = true });

        // A raised limit admits the next one.
        await LimitMembersAsync(tenantId, 3);
        var second = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "second-2", new { email = $"second@{domain}", email_verified = true });
        Assert.That((string?)second["user"]!["email"], Is.EqualTo($"second@{domain}"));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM memberships WHERE tenant_id = @t", tenantId, ("t", tenantId)), Is.EqualTo(3));
    }
}
