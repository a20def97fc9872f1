using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.Auth;

/// <summary>Turns the authenticated principal and the request into the engines' caller.</summary>
public static class CallerExtensions
{
    /// <summary>Builds the caller of this request, with its origin (client IP, user agent, request id) for the audit log.</summary>
    public static Caller ToCaller(this HttpContext http) =>
        FromPrincipal(http.User) with { Origin = Origin(http) };

    /// <summary>Builds the operator caller of an /v1/admin request from the operator scheme's principal: id, role and whether TOTP was verified.</summary>
    public static Caller ToOperatorCaller(this HttpContext http)
    {
        var principal = http.User;
        if (!Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var operatorId)
            || principal.FindFirstValue(TokenIssuer.OperatorRoleClaim) is not { Length: > 0 } tokenRole)
        {
            throw new UnauthorizedException("A valid operator token is required.");
        }
        // OperatorRequestFilter has put the operator's current role here: a role change applies from the next request.
        var role = http.Items[OperatorRequestFilter.CurrentRoleItem] as string ?? tokenRole;
        return Caller.Operator(operatorId, role) with
        {
            Origin = Origin(http),
            MfaVerified = principal.FindFirstValue(TokenIssuer.MfaClaim) == "true",
        };
    }

    public static RequestOrigin Origin(HttpContext http) => new(
        http.Connection.RemoteIpAddress?.ToString(),
        http.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua[..Math.Min(ua.Length, 512)] : null,
        http.TraceIdentifier);

    /// <summary>Gets the session of a user's access token (its sid claim), or null for other callers.</summary>
    public static Guid? SessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(TokenIssuer.SessionClaim), out var sessionId) ? sessionId : null;

    /// <summary>Gets the tenant of the API key that authenticated the request, or null for other callers.</summary>
    public static Guid? KeyTenantId(this ClaimsPrincipal principal) =>
        KeyCallers.TryGetValue(principal, out var known) ? known.KeyTenantId
        : Guid.TryParse(principal.FindFirstValue(PlatformAuthentication.KeyTenantClaim), out var tenantId) ? tenantId : null;

    /// <summary>Gets the signed-in user of a user's access token (its sub claim), or null for key callers and anonymous requests.</summary>
    public static Guid? UserId(this ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true && principal.KeyTenantId() is null
        && Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId) ? userId : null;

    /// <summary>Holds the caller of each API-key principal, built once with it (ADR 0810); other principals are read from their claims.</summary>
    private static readonly ConditionalWeakTable<ClaimsPrincipal, Caller> KeyCallers = new();

    /// <summary>Remembers the caller of a principal the API key scheme built and shares across requests.</summary>
    internal static void RememberKeyCaller(ClaimsPrincipal principal, Caller caller) => KeyCallers.AddOrUpdate(principal, caller);

    private static Caller FromPrincipal(ClaimsPrincipal principal)
    {
        if (KeyCallers.TryGetValue(principal, out var known))
        {
            return known;
        }
        if (Guid.TryParse(principal.FindFirstValue(PlatformAuthentication.KeyIdClaim), out var keyId) && principal.KeyTenantId() is { } tenantId)
        {
            var permissions = principal.FindAll(PlatformAuthentication.KeyPermissionClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
            return Caller.ApiKey(keyId, tenantId, permissions);
        }
        return Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId)
            ? Caller.User(userId)
            : throw new UnauthorizedException("A valid access token or API key is required.");
    }
}
