using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Sso;

/// <summary>Proves SSO sign-in against a real OpenID Provider (oidc-provider on loopback, ADR 0620): the redirect carries PKCE S256, state and
/// nonce; the callback creates the user and its membership with the mapped role just in time and the one-time code opens a Platform session that
/// works on tenant routes; home-realm discovery by email; states and codes work once; and one tenant's SSO never signs anyone into another.</summary>
public sealed class SsoSignInTests : DatabaseTest
{
    private WebApplicationFactory<Program> host = null!;
    private OidcProviderProcess provider = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        host = SsoTestBed.LoopbackHost();
        provider = await OidcProviderProcess.StartAsync(("tenant-a", "secret-a"), ("tenant-b", "secret-b"));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await provider.DisposeAsync();
        host.Dispose();
    }

    private object Settings(string clientId, string secret, string[] domains, bool enforce = false) => new
    {
        issuer = provider.Issuer,
        client_id = clientId,
        client_secret = secret,
        domains,
        default_role = "member",
        group_claim = "groups",
        group_roles = new Dictionary<string, string> { ["platform-admins"] = "admin", ["auditors"] = "viewer" },
        enforce,
    };

    [Test]
    public async Task A_new_user_signs_in_through_the_provider_and_gets_a_membership_with_the_mapped_role_and_a_working_session()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, Settings("tenant-a", "secret-a", ["a-corp.example"]));
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var authorize = await SsoTestBed.StartAsync(api, "tenant=" + slug);
        var query = SsoTestBed.Query(authorize);
        Assert.Multiple(() =>
        {
            Assert.That(authorize.GetLeftPart(UriPartial.Path), Is.EqualTo(provider.Issuer + "/auth"));
            Assert.That(query["response_type"], Is.EqualTo("code"));
            Assert.That(query["client_id"], Is.EqualTo("tenant-a"));
            Assert.That(query["code_challenge_method"], Is.EqualTo("S256"));
            Assert.That(query["code_challenge"], Has.Length.EqualTo(43));
            Assert.That(query["state"], Is.Not.Empty);
            Assert.That(query["nonce"], Has.Length.EqualTo(43));
            Assert.That(query["redirect_uri"], Is.EqualTo(OidcProviderProcess.RedirectUri));
        });

        await provider.NextLoginAsync("ada-123", new { email = "Ada@A-Corp.example", email_verified = true, name = "Ada Lovelace", groups = new[] { "platform-admins", "staff" } });
        var callback = await OidcProviderProcess.AuthorizeAsync(authorize);
        using var done = await SsoTestBed.CallbackAsync(api, callback);
        await TestApi.ExpectAsync(done, HttpStatusCode.Redirect);
        var code = SsoTestBed.CodeOf(done);
        var session = await SsoTestBed.ExchangeAsync(api, code);
        Assert.That((string?)session["user"]!["email"], Is.EqualTo("Ada@A-Corp.example"));
        Assert.That((bool)session["user"]!["email_verified"]!, Is.True);
        Assert.That((string?)session["refresh_token"], Does.StartWith("rt_"));

        // The session is Platform's own: it reads the tenant, and the membership has the role mapped from the group.
        var ada = host.Client((string)session["access_token"]!);
        using (var tenant = await ada.GetAsync($"/v1/tenants/{tenantId}"))
        {
            await TestApi.ExpectAsync(tenant, HttpStatusCode.OK);
        }
        using (var me = await ada.GetAsync("/v1/me"))
        {
            var memberships = (await TestApi.ReadAsync(me))["memberships"]!.AsArray();
            Assert.That(memberships, Has.Count.EqualTo(1));
            Assert.That((string?)memberships[0]!["role"], Is.EqualTo("admin"));
        }
        using (var refresh = await api.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = (string)session["refresh_token"]! }))
        {
            await TestApi.ExpectAsync(refresh, HttpStatusCode.OK);
        }

        // The code and the state work once.
        using (var reused = await api.PostAsJsonAsync("/v1/auth/sso/exchange", new { code }))
        {
            await TestApi.ExpectProblemAsync(reused, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var replay = await SsoTestBed.CallbackAsync(api, callback))
        {
            var problem = await TestApi.ExpectProblemAsync(replay, HttpStatusCode.Forbidden, "sso_refused");
            Assert.That((string?)problem["reason"], Is.EqualTo("state_invalid"));
        }

        var audit = await SsoTestBed.AuditAsync(tenantId, "sso.");
        Assert.That(audit.Select(a => a.Action), Does.Contain("sso.signed_in").And.Contain("sso.sign_in_refused"));
        Assert.That(audit.First(a => a.Action == "sso.signed_in").NewValues, Does.Contain("ada-123").And.Contain("\"new_user\": true"));

        // A second sign-in of the same IdP account finds the same user and keeps the membership.
        var again = await SsoTestBed.SignInAsync(api, provider, "email=someone@a-corp.example", "ada-123",
            new { email = "ada@a-corp.example", email_verified = true, name = "Ada", groups = new[] { "auditors" } });
        Assert.That((string?)again["user"]!["id"], Is.EqualTo((string?)session["user"]!["id"]));
        using var meAgain = await host.Client((string)again["access_token"]!).GetAsync("/v1/me");
        Assert.That((string?)(await TestApi.ReadAsync(meAgain))["memberships"]![0]!["role"], Is.EqualTo("admin"));
    }

    [Test]
    public async Task Without_a_mapped_group_a_new_member_gets_the_default_role_and_an_existing_user_is_linked_by_email()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, Settings("tenant-a", "secret-a", ["a-corp.example"]));
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var plain = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "bob-1", new { email = "bob@a-corp.example", email_verified = true, groups = new[] { "staff" } });
        using (var me = await host.Client((string)plain["access_token"]!).GetAsync("/v1/me"))
        {
            Assert.That((string?)(await TestApi.ReadAsync(me))["memberships"]![0]!["role"], Is.EqualTo("member"));
        }

        // A user who signed up with a password is the same user when the IdP asserts their address.
        using (var signup = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email = "carol@a-corp.example", password = "correct horse battery", name = "Carol" }))
        {
            await TestApi.ExpectAsync(signup, HttpStatusCode.Created);
            var carolId = (string?)(await TestApi.ReadAsync(signup))["user"]!["id"];
            var linked = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "carol-1", new { email = "carol@a-corp.example", email_verified = true });
            Assert.That((string?)linked["user"]!["id"], Is.EqualTo(carolId));
        }
    }

    [Test]
    public async Task A_domain_that_lost_its_verification_vouches_for_nobody()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, Settings("tenant-a", "secret-a", ["a-corp.example"]));
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        // The re-check job sends a domain whose TXT record is gone back to pending.
        await using (var scope = await TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE custom_domains SET status = 'pending' WHERE name = 'a-corp.example'");
            await scope.CommitAsync();
        }
        var authorize = await SsoTestBed.StartAsync(api, "tenant=" + slug);
        await provider.NextLoginAsync("dana-1", new { email = "dana@a-corp.example", email_verified = true });
        using (var refused = await SsoTestBed.CallbackAsync(api, await OidcProviderProcess.AuthorizeAsync(authorize)))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "sso_refused");
            Assert.That((string?)problem["reason"], Is.EqualTo("email_domain_not_allowed"));
        }
        Assert.That(await SsoTestBed.AuditAsync(tenantId, "sso.signed_in"), Is.Empty);

        // Verified again, the same person signs in.
        await TestApi.VerifiedDomainsAsync(tenantId, ["a-corp.example"]);
        var dana = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slug, "dana-1", new { email = "dana@a-corp.example", email_verified = true });
        Assert.That((string?)dana["access_token"], Is.Not.Null.And.Not.Empty);
    }

    [Test]
    public async Task One_tenants_sso_never_signs_anyone_into_another_tenant()
    {
        var (ownerA, tenantA, slugA) = await SsoTestBed.EnterpriseTenantAsync();
        var (ownerB, tenantB, slugB) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(ownerA.Token), tenantA, Settings("tenant-a", "secret-a", ["a-corp.example"]));
        await SsoTestBed.ConfigureAsync(host.Client(ownerB.Token), tenantB, Settings("tenant-b", "secret-b", ["b-corp.example"]));
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        // B's identity provider asserting an address of A's domain is refused: B may only vouch for its own domains.
        var authorizeB = await SsoTestBed.StartAsync(api, "tenant=" + slugB);
        await provider.NextLoginAsync("mallory", new { email = "ceo@a-corp.example", email_verified = true, groups = new[] { "platform-admins" } });
        using (var refused = await SsoTestBed.CallbackAsync(api, await OidcProviderProcess.AuthorizeAsync(authorizeB)))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "sso_refused");
            Assert.That((string?)problem["reason"], Is.EqualTo("email_domain_not_allowed"));
        }

        // A code B's client obtained, brought back with A's state, is traded with A's client and refused by the provider or the audience check.
        var authorizeA = await SsoTestBed.StartAsync(api, "tenant=" + slugA);
        authorizeB = await SsoTestBed.StartAsync(api, "tenant=" + slugB);
        await provider.NextLoginAsync("bea", new { email = "bea@b-corp.example", email_verified = true });
        var callbackB = await OidcProviderProcess.AuthorizeAsync(authorizeB);
        var mixed = new Uri($"{OidcProviderProcess.RedirectUri}?code={Uri.EscapeDataString(SsoTestBed.Query(callbackB)["code"]!)}&state={Uri.EscapeDataString(SsoTestBed.Query(authorizeA)["state"]!)}");
        using (var crossed = await SsoTestBed.CallbackAsync(api, mixed))
        {
            var problem = await TestApi.ExpectProblemAsync(crossed, HttpStatusCode.Forbidden, "sso_refused");
            Assert.That((string?)problem["reason"], Is.AnyOf("token_exchange_failed", "invalid_audience"));
        }

        // A proper sign-in through B makes a member of B only.
        var bea = await SsoTestBed.SignInAsync(api, provider, "tenant=" + slugB, "bea", new { email = "bea@b-corp.example", email_verified = true });
        var client = host.Client((string)bea["access_token"]!);
        using (var inA = await client.GetAsync($"/v1/tenants/{tenantA}"))
        {
            await TestApi.ExpectProblemAsync(inA, HttpStatusCode.NotFound, "not_found");
        }
        using (var inB = await client.GetAsync($"/v1/tenants/{tenantB}"))
        {
            await TestApi.ExpectAsync(inB, HttpStatusCode.OK);
        }
        Assert.That((await SsoTestBed.AuditAsync(tenantA, "sso.signed_in")), Is.Empty);
    }

    [Test]
    public async Task Bad_input_on_start_callback_and_exchange_gets_problem_details()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        async Task ExpectAsync(string url, HttpStatusCode status, string code)
        {
            using var response = await api.GetAsync(url);
            await TestApi.ExpectProblemAsync(response, status, code);
        }
        await ExpectAsync("/v1/auth/sso/start", HttpStatusCode.UnprocessableEntity, "validation_failed");
        await ExpectAsync($"/v1/auth/sso/start?tenant={slug}&email=a@b.example", HttpStatusCode.UnprocessableEntity, "validation_failed");
        await ExpectAsync("/v1/auth/sso/start?email=not-an-email", HttpStatusCode.UnprocessableEntity, "validation_failed");
        await ExpectAsync("/v1/auth/sso/start?tenant=NOT%20A%20SLUG", HttpStatusCode.UnprocessableEntity, "validation_failed");
        await ExpectAsync($"/v1/auth/sso/start?tenant={slug}", HttpStatusCode.NotFound, "not_found");
        await ExpectAsync("/v1/auth/sso/start?email=x@unclaimed.example", HttpStatusCode.NotFound, "not_found");
        await ExpectAsync("/v1/auth/sso/callback", HttpStatusCode.Forbidden, "sso_refused");
        await ExpectAsync("/v1/auth/sso/callback?code=x&state=st_" + tenantId.ToString("N") + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HttpStatusCode.Forbidden, "sso_refused");
        await ExpectAsync("/v1/auth/sso/callback?code=x&state=%00", HttpStatusCode.UnprocessableEntity, "validation_failed");
        using (var exchange = await api.PostAsJsonAsync("/v1/auth/sso/exchange", new { code = "ssoc_nothing" }))
        {
            await TestApi.ExpectProblemAsync(exchange, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var empty = await api.PostAsJsonAsync("/v1/auth/sso/exchange", new { }))
        {
            await TestApi.ExpectProblemAsync(empty, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var wrongKind = await api.PostAsJsonAsync("/v1/auth/sso/exchange", new { code = 5 }))
        {
            Assert.That((int)wrongKind.StatusCode, Is.EqualTo(422));
        }

        // Configured on a plan that has sso, then downgraded: the data stays but sign-in stops.
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, Settings("tenant-a", "secret-a", ["gone.example"]));
        await using (var scope = await Testing.TenantScope.OwnerAsync(tenantId))
        {
            await scope.ExecuteAsync("UPDATE tenants SET plan = 'starter' WHERE id = @t", ("t", tenantId));
            await scope.CommitAsync();
        }
        using var downgraded = await api.GetAsync("/v1/auth/sso/start?email=x@gone.example");
        await TestApi.ExpectProblemAsync(downgraded, HttpStatusCode.Forbidden, "feature_not_in_plan");
    }
}
