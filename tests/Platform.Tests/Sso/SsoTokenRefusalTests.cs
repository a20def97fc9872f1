using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.IdentityModel.Tokens;
using Platform.Tests.ApiKeys;

namespace Platform.Tests.Sso;

/// <summary>Proves that the callback refuses every ID token Microsoft.IdentityModel and the nonce check must refuse (ADR 0620): a wrong nonce,
/// another audience, an expired token, a tampered signature, a key the IdP does not publish and another issuer, each with a clear problem,
/// an audit row and no session; the tokens come from a loopback IdP whose keys the test holds.</summary>
public sealed class SsoTokenRefusalTests : DatabaseTest
{
    private WebApplicationFactory<Program> host = null!;
    private TokenIdp idp = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        host = SsoTestBed.LoopbackHost();
        idp = await TokenIdp.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await idp.DisposeAsync();
        host.Dispose();
    }

    private async Task<(Guid TenantId, string Slug, HttpClient Api)> TenantAsync()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, new
        {
            issuer = idp.Issuer, client_id = "token-client", client_secret = "token secret", domains = new[] { "tokens.example" },
        });
        return (tenantId, slug, host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
    }

    /// <summary>Starts a sign-in, answers its code with the token made from the sign-in's nonce, and returns the callback's response.</summary>
    private async Task<HttpResponseMessage> CompleteWithAsync(HttpClient api, string slug, Func<string, string> token)
    {
        var authorize = await SsoTestBed.StartAsync(api, "tenant=" + slug);
        var query = SsoTestBed.Query(authorize);
        Assert.That(authorize.GetLeftPart(UriPartial.Path), Is.EqualTo(idp.Issuer + "/authorize"));
        var code = "code-" + Guid.NewGuid().ToString("N");
        idp.Answer(code, token(query["nonce"]!));
        return await api.GetAsync($"/v1/auth/sso/callback?code={code}&state={Uri.EscapeDataString(query["state"]!)}");
    }

    [Test]
    public async Task A_valid_token_signs_in_and_the_client_authenticates_with_its_secret()
    {
        var (tenantId, slug, api) = await TenantAsync();
        using var response = await CompleteWithAsync(api, slug, nonce => idp.Token("token-client", nonce, "u-1", "valid@tokens.example"));
        await TestApi.ExpectAsync(response, HttpStatusCode.Redirect);
        var session = await SsoTestBed.ExchangeAsync(api, SsoTestBed.CodeOf(response));
        using var tenant = await host.Client((string)session["access_token"]!).GetAsync($"/v1/tenants/{tenantId}");
        await TestApi.ExpectAsync(tenant, HttpStatusCode.OK);
        var basic = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(idp.TokenRequests.Last()!["Basic ".Length..]));
        Assert.That(basic, Is.EqualTo("token-client:token%20secret"));
    }

    private static IEnumerable<TestCaseData> SpoiltTokens()
    {
        yield return new TestCaseData("nonce_mismatch", (Func<TokenIdp, string, string>)((idp, nonce) => idp.Token("token-client", "another-nonce", "u-2", "x@tokens.example")))
            .SetName("A_token_with_another_nonce_is_refused");
        yield return new TestCaseData("nonce_mismatch", (Func<TokenIdp, string, string>)((idp, nonce) => idp.Token("token-client", null, "u-2", "x@tokens.example")))
            .SetName("A_token_without_a_nonce_is_refused");
        yield return new TestCaseData("invalid_audience", (Func<TokenIdp, string, string>)((idp, nonce) => idp.Token("another-client", nonce, "u-2", "x@tokens.example")))
            .SetName("A_token_for_another_audience_is_refused");
        yield return new TestCaseData("token_expired", (Func<TokenIdp, string, string>)((idp, nonce) =>
                idp.Token("token-client", nonce, "u-2", "x@tokens.example", expires: DateTime.UtcNow.AddMinutes(-5))))
            .SetName("An_expired_token_is_refused");
        yield return new TestCaseData("invalid_signature", (Func<TokenIdp, string, string>)((idp, nonce) =>
            {
                var token = idp.Token("token-client", nonce, "u-2", "x@tokens.example");
                var parts = token.Split('.');
                // The payload is changed after signing: the same header and signature over another email.
                var payload = Base64UrlEncoder.Decode(parts[1]).Replace("x@tokens.example", "y@tokens.example", StringComparison.Ordinal);
                return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
            }))
            .SetName("A_tampered_token_is_refused");
        yield return new TestCaseData("invalid_signature", (Func<TokenIdp, string, string>)((idp, nonce) =>
                idp.Token("token-client", nonce, "u-2", "x@tokens.example", signingKey: new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-key-1" })))
            .SetName("A_token_signed_with_a_key_the_idp_does_not_publish_is_refused");
        yield return new TestCaseData("invalid_issuer", (Func<TokenIdp, string, string>)((idp, nonce) =>
                idp.Token("token-client", nonce, "u-2", "x@tokens.example", issuer: "https://unknown-issuer.example")))
            .SetName("A_token_from_an_unknown_issuer_is_refused");
        yield return new TestCaseData("email_not_verified", (Func<TokenIdp, string, string>)((idp, nonce) =>
                idp.Token("token-client", nonce, "u-2", "x@tokens.example", extra: new Dictionary<string, object> { ["email_verified"] = false })))
            .SetName("A_token_whose_email_is_not_verified_is_refused");
    }

    [TestCaseSource(nameof(SpoiltTokens))]
    public async Task Spoilt_tokens_are_refused_with_their_reason_audited_and_no_session(string reason, Func<TokenIdp, string, string> token)
    {
        var (tenantId, slug, api) = await TenantAsync();
        using var response = await CompleteWithAsync(api, slug, nonce => token(idp, nonce));
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.Forbidden, "sso_refused");
        Assert.That((string?)problem["reason"], Is.EqualTo(reason));
        var audit = await SsoTestBed.AuditAsync(tenantId, "sso.sign");
        Assert.That(audit.Select(a => a.Action), Is.EqualTo(new[] { "sso.sign_in_refused" }));
        Assert.That(audit[0].NewValues, Does.Contain(reason));
        await using var scope = await Testing.TenantScope.OwnerAsync(tenantId);
        Assert.That(await scope.ScalarAsync("SELECT count(*) FROM memberships WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo(1L));
        Assert.That(await scope.ScalarAsync("SELECT count(*) FROM sso_sign_in_codes WHERE tenant_id = @t", ("t", tenantId)), Is.EqualTo(0L));
    }

    [Test]
    public async Task A_discovery_document_naming_another_issuer_is_refused()
    {
        var (owner, tenantId, slug) = await SsoTestBed.EnterpriseTenantAsync();
        // The configured issuer differs from the one the document names (a trailing slash is another issuer in OpenID Connect).
        await SsoTestBed.ConfigureAsync(host.Client(owner.Token), tenantId, new
        {
            issuer = idp.Issuer + "/", client_id = "token-client", client_secret = "s", domains = new[] { "mismatch.example" },
        });
        using var response = await host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync("/v1/auth/sso/start?tenant=" + slug);
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.Forbidden, "sso_refused");
        Assert.That((string?)problem["reason"], Is.EqualTo("issuer_mismatch"));
    }
}
