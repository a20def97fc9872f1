using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using MediatR;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Platform.Engines;
using Platform.Engines.ApiKeys;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;

namespace Platform.Api.Auth;

/// <summary>Names the authentication schemes and the claims of key callers.</summary>
public static class PlatformAuthentication
{
    /// <summary>Is the default scheme: it forwards to ApiKey when the bearer token has the key prefix, else to JWT.</summary>
    public const string Scheme = "Platform";

    public const string ApiKeyScheme = "ApiKey";

    public const string KeyIdClaim = "platform:key_id";
    public const string KeyTenantClaim = "platform:key_tenant_id";
    public const string KeyPermissionClaim = "platform:key_permission";

    private const string BearerPrefix = "Bearer ";

    /// <summary>Adds the policy scheme, JWT bearer for users, the API key scheme and the key runtime (change listener, usage flush).</summary>
    private static readonly PathString AdminPath = new("/v1/admin");

    public static AuthenticationBuilder AddPlatformAuthentication(this IServiceCollection services)
    {
        services.AddApiKeyRuntime();
        return services.AddAuthentication(Scheme)
            // /v1/admin takes operator tokens only: the default scheme authenticates them with the operator scheme there, so the user JWT
            // scheme never tries (and logs IDX10214 for) an operator token's audience (ADR 0583).
            .AddPolicyScheme(Scheme, "JWT or API key", o => o.ForwardDefaultSelector = context =>
                HoldsKeySecret(context.Request) ? ApiKeyScheme
                : context.Request.Path.StartsWithSegments(AdminPath, StringComparison.OrdinalIgnoreCase) ? OperatorAuth.Scheme
                : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(o => o.MapInboundClaims = false)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null);
    }

    /// <summary>Reads the secret of "Authorization: Bearer pk_live_…", or null when the header holds no key.</summary>
    public static string? ReadKeySecret(HttpRequest request) =>
        KeySecret(request) is { Length: > 0 } secret ? secret.ToString() : null;

    /// <summary>Tells whether the request holds a key secret, without allocating (the policy scheme asks on every request).</summary>
    public static bool HoldsKeySecret(HttpRequest request) => !KeySecret(request).IsEmpty;

    private static ReadOnlySpan<char> KeySecret(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        // One value is the header as sent (no copy); several are joined as before.
        var header = values.Count == 1 ? values[0].AsSpan() : values.ToString().AsSpan();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return default;
        }
        var token = header[BearerPrefix.Length..].Trim();
        return token.StartsWith(ApiKeyPermissions.SecretPrefix, StringComparison.Ordinal) ? token : default;
    }
}

/// <summary>Authenticates "Authorization: Bearer pk_live_…" through the engines (cache, revocation, expiry, rate limit) and puts the key's id, tenant and permissions in the principal.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IMediator mediator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PlatformAuthentication.ReadKeySecret(Request) is not { } secret)
        {
            return AuthenticateResult.NoResult();
        }
        ApiKeyCredentials key;
        try
        {
            // A refusal by the rate limit (QuotaExceededException) is not caught: it becomes 429 with Retry-After.
            key = await mediator.Send(new AuthenticateApiKey(secret), Context.RequestAborted);
        }
        catch (UnauthorizedException e)
        {
            // The start-up warm-up's own key does not exist on purpose: no result (still a 401) instead of a failure the handler would log
            // at information level as "not authenticated", which reads like an attack (ADR 0800).
            return Context.RequestServices.GetRequiredService<Hosting.WarmUpState>().IsWarmUpRequest(Context)
                ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(e.Message);
        }
        return AuthenticateResult.Success(Tickets.GetOrAdd(key, static (credentials, scheme) => BuildTicket(credentials, scheme), Scheme.Name));
    }

    /// <summary>Holds the ticket built for each credentials instance of the key cache. The instance is replaced when the key changes (revoked,
    /// frozen, edited: the cache's change notification) and the engine refuses a revoked, frozen or expired key before this is read, so a ticket
    /// never outlives its credentials; it dies with them (ADR 0810). Tickets and their principals are shared across requests: nothing in the
    /// service adds claims or identities to a principal (no claims transformation).</summary>
    private static readonly ConditionalWeakTable<ApiKeyCredentials, AuthenticationTicket> Tickets = new();

    private static AuthenticationTicket BuildTicket(ApiKeyCredentials key, string scheme)
    {
        var claims = new List<Claim>(2 + key.Permissions.Count)
        {
            new(PlatformAuthentication.KeyIdClaim, key.Id.ToString()),
            new(PlatformAuthentication.KeyTenantClaim, key.TenantId.ToString()),
        };
        claims.AddRange(key.Permissions.Select(p => new Claim(PlatformAuthentication.KeyPermissionClaim, p)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
        CallerExtensions.RememberKeyCaller(principal, Caller.ApiKey(key.Id, key.TenantId, key.Permissions.ToHashSet(StringComparer.Ordinal)));
        return new AuthenticationTicket(principal, scheme);
    }
}
