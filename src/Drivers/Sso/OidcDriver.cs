using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Platform.Models.Sso;

namespace Platform.Drivers.Sso;

/// <summary>Holds how the OpenID Connect client reaches identity providers: whether http to a loopback issuer is allowed (tests, the embedded default) and the timeout in seconds.</summary>
public sealed record OidcClientSettings(bool AllowLoopbackHttp, int TimeoutSeconds);

/// <summary>Holds the endpoints of an identity provider, from its discovery document.</summary>
public sealed record OidcEndpoints(string Issuer, string AuthorizationEndpoint, string TokenEndpoint);

/// <summary>Talks OpenID Connect to a tenant's identity provider: discovery (with its signing keys from the JWKS), the code exchange, and the
/// ID token's validation by Microsoft.IdentityModel (issuer, audience, signature, lifetime); refusals are <see cref="SsoRefusedException"/>.</summary>
public interface IOidcDriver
{
    /// <summary>Reads the provider's discovery document (cached per issuer), refusing one whose issuer is not the configured one.</summary>
    Task<OidcEndpoints> DiscoverAsync(string issuer, CancellationToken cancellationToken);

    /// <summary>Trades an authorization code (with its PKCE verifier) for tokens, validates the ID token and returns what it says.</summary>
    Task<OidcIdentity> RedeemCodeAsync(
        string issuer, string clientId, string clientSecret, string code, string codeVerifier, string redirectUri, string? groupClaim, CancellationToken cancellationToken);
}

internal sealed class OidcDriver(OidcClientSettings settings) : IOidcDriver
{
    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> managers = new(StringComparer.Ordinal);
    private readonly HttpClient http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = (context, token) => ConnectAsync(context.DnsEndPoint, settings.AllowLoopbackHttp, token),
    })
    {
        Timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds),
    };

    /// <summary>Resolves the provider's host (or takes its literal address) and connects only when every address passes
    /// <see cref="SsoRules.IsAllowedIssuerAddress"/>: a name that resolves to a private or metadata address is refused at discovery time too.</summary>
    private static async ValueTask<Stream> ConnectAsync(System.Net.DnsEndPoint endPoint, bool allowLoopback, CancellationToken cancellationToken)
    {
        var addresses = System.Net.IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await System.Net.Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
        }
        if (addresses.FirstOrDefault(a => !SsoRules.IsAllowedIssuerAddress(a, allowLoopback)) is { } refused)
        {
            throw new IssuerAddressRefusedException(refused);
        }
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SsoRefusedException? AddressRefusal(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is IssuerAddressRefusedException refused)
            {
                return new SsoRefusedException(SsoRefusal.IssuerAddressRefused, refused.Message);
            }
        }
        return null;
    }

    public async Task<OidcEndpoints> DiscoverAsync(string issuer, CancellationToken cancellationToken)
    {
        var configuration = await ConfigurationAsync(issuer, cancellationToken);
        return new OidcEndpoints(configuration.Issuer, configuration.AuthorizationEndpoint, configuration.TokenEndpoint);
    }

    public async Task<OidcIdentity> RedeemCodeAsync(
        string issuer, string clientId, string clientSecret, string code, string codeVerifier, string redirectUri, string? groupClaim, CancellationToken cancellationToken)
    {
        var configuration = await ConfigurationAsync(issuer, cancellationToken);
        var idToken = await ExchangeAsync(configuration.TokenEndpoint, clientId, clientSecret, code, codeVerifier, redirectUri, cancellationToken);
        var result = await ValidateAsync(idToken, issuer, clientId, configuration);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The provider may have rotated its keys since the JWKS was cached: read it again once.
            managers[issuer].RequestRefresh();
            result = await ValidateAsync(idToken, issuer, clientId, await ConfigurationAsync(issuer, cancellationToken));
        }
        if (!result.IsValid)
        {
            throw Refusal(result.Exception);
        }
        var token = (JsonWebToken)result.SecurityToken;
        var groups = groupClaim is null ? [] : token.Claims.Where(c => c.Type == groupClaim).Select(c => c.Value).ToList();
        return new OidcIdentity(
            token.Issuer,
            token.Subject,
            token.TryGetPayloadValue<string>("email", out var email) ? email : null,
            token.TryGetPayloadValue<bool>("email_verified", out var verified) ? verified : null,
            token.TryGetPayloadValue<string>("name", out var name) ? name : null,
            token.TryGetPayloadValue<string>("nonce", out var nonce) ? nonce : null,
            groups);
    }

    private static Task<TokenValidationResult> ValidateAsync(string idToken, string issuer, string clientId, OpenIdConnectConfiguration configuration) =>
        new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = clientId,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromMinutes(1),
        });

    private static SsoRefusedException Refusal(Exception? exception) => exception switch
    {
        SecurityTokenInvalidIssuerException => new(SsoRefusal.InvalidIssuer, "The ID token was issued by another issuer than the tenant's identity provider."),
        SecurityTokenInvalidAudienceException => new(SsoRefusal.InvalidAudience, "The ID token was issued for another client."),
        SecurityTokenExpiredException => new(SsoRefusal.TokenExpired, "The ID token has expired."),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            new(SsoRefusal.InvalidSignature, "The ID token's signature does not verify with the identity provider's keys."),
        _ => new(SsoRefusal.InvalidToken, "The ID token is not valid: " + (exception?.GetType().Name ?? "unknown reason") + "."),
    };

    private async Task<OpenIdConnectConfiguration> ConfigurationAsync(string issuer, CancellationToken cancellationToken)
    {
        var manager = managers.GetOrAdd(issuer, i => new ConfigurationManager<OpenIdConnectConfiguration>(
            i.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = !(settings.AllowLoopbackHttp && new Uri(i).IsLoopback) })
        {
            AutomaticRefreshInterval = TimeSpan.FromHours(1),
            RefreshInterval = TimeSpan.FromSeconds(30),
        });
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or ArgumentException)
        {
            managers.TryRemove(issuer, out _);
            throw AddressRefusal(e) ?? new SsoRefusedException(SsoRefusal.IdpUnreachable, "The identity provider's discovery document could not be read.");
        }
        if (!string.Equals(configuration.Issuer, issuer, StringComparison.Ordinal))
        {
            throw new SsoRefusedException(SsoRefusal.IssuerMismatch, $"The discovery document names the issuer '{configuration.Issuer}', not the configured '{issuer}'.");
        }
        return configuration;
    }

    private async Task<string> ExchangeAsync(
        string tokenEndpoint, string clientId, string clientSecret, string code, string codeVerifier, string redirectUri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = redirectUri,
                ["code_verifier"] = codeVerifier,
            }),
        };
        // client_secret_basic (RFC 6749 2.3.1): both parts form-encoded before base64.
        var basic = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(basic)));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SsoRefusedException(SsoRefusal.TokenExchangeFailed, $"The identity provider refused the code ({(int)response.StatusCode}).");
            }
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("id_token", out var idToken) && idToken.ValueKind == JsonValueKind.String
                ? idToken.GetString()!
                : throw new SsoRefusedException(SsoRefusal.TokenExchangeFailed, "The identity provider's token response holds no ID token.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw AddressRefusal(e) ?? new SsoRefusedException(SsoRefusal.IdpUnreachable, "The identity provider's token endpoint could not be reached.");
        }
    }
}

/// <summary>Signals that an identity provider's host resolved to an address the server may not connect to (private, link-local, metadata...).</summary>
internal sealed class IssuerAddressRefusedException(System.Net.IPAddress address)
    : IOException($"The identity provider's address {address} is not allowed: it is {Platform.Models.WireNames.ToWire(Platform.Models.Webhooks.WebhookAddressPolicy.Classify(address))}; identity providers must be on public addresses.");

