using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Tests.Sso;

/// <summary>A tiny identity provider on loopback whose ID tokens the test writes: discovery, a JWKS with the test's RSA key, and a token endpoint
/// that answers each code with the token the test queued for it. It stands where a misbehaving or hostile IdP would, to prove the token checks
/// (nonce, audience, lifetime, signature, issuer) that a well-behaved provider never lets fail.</summary>
public sealed class TokenIdp : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, string> tokens = new();

    private TokenIdp(WebApplication app, string issuer, RsaSecurityKey key)
    {
        this.app = app;
        Issuer = issuer;
        Key = key;
    }

    public string Issuer { get; }

    /// <summary>Gets the key the JWKS publishes.</summary>
    public RsaSecurityKey Key { get; }

    /// <summary>Gets the basic-auth headers the token endpoint received, in order.</summary>
    public ConcurrentQueue<string?> TokenRequests { get; } = new();

    public static async Task<TokenIdp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "test-key-1" };
        TokenIdp? idp = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = idp!.Issuer,
            ["authorization_endpoint"] = idp.Issuer + "/authorize",
            ["token_endpoint"] = idp.Issuer + "/token",
            ["jwks_uri"] = idp.Issuer + "/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        app.MapPost("/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            idp!.TokenRequests.Enqueue(http.Request.Headers.Authorization.ToString());
            return idp.tokens.TryRemove(form["code"].ToString(), out var idToken)
                ? Results.Json(new { access_token = "at", token_type = "Bearer", expires_in = 60, id_token = idToken })
                : Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        idp = new TokenIdp(app, address.TrimEnd('/'), key);
        return idp;
    }

    /// <summary>Makes an ID token: by default valid for this IdP, the audience and nonce given; each part can be spoilt.</summary>
    public string Token(string audience, string? nonce, string subject, string email, string? issuer = null, DateTime? expires = null,
        SecurityKey? signingKey = null, IDictionary<string, object>? extra = null)
    {
        var now = DateTime.UtcNow;
        var exp = expires ?? now.AddMinutes(5);
        var claims = new Dictionary<string, object> { ["email"] = email, ["email_verified"] = true, ["name"] = "Token User" };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }
        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            IssuedAt = exp.AddMinutes(-10),
            NotBefore = exp.AddMinutes(-10),
            Expires = exp,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = claims,
            SigningCredentials = new SigningCredentials(signingKey ?? Key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>Queues the ID token the token endpoint answers for a code.</summary>
    public void Answer(string code, string idToken) => tokens[code] = idToken;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
