using System.Diagnostics;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Api.Auth;

namespace Platform.Api.Hosting;

/// <summary>Puts the request's ids into the log scope of everything the request writes: request_id (the problem responses' request_id) and
/// trace_id from the start, tenant_id and caller once the caller is authenticated (ADR 0583).</summary>
/// <remarks>Only ids: never a credential, a token, an email or a body. The JSON console formatter writes each pair as a property of the line.</remarks>
internal static class RequestLogScope
{
    private const string LoggerName = "Platform.Api.Requests";

    /// <summary>Opens the request scope: request_id and trace_id.</summary>
    public static async Task RequestAsync(HttpContext http, Func<Task> next)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerName);
        using (logger.BeginScope(new RequestScope(http.TraceIdentifier, Activity.Current)))
        {
            await next();
        }
    }

    /// <summary>Opens the caller scope after authentication: tenant_id (the route's tenant, or the API key's for "current") and caller.</summary>
    public static async Task CallerAsync(HttpContext http, Func<Task> next)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerName);
        var routeTenant = http.Request.RouteValues.TryGetValue("tenant_id", out var value) ? value as string : null;
        using (logger.BeginScope(new CallerScope(routeTenant, http.User)))
        {
            await next();
        }
    }

    private static string? TenantOf(string? routeTenant, ClaimsPrincipal user) =>
        Guid.TryParse(routeTenant, out var tenantId) ? tenantId.ToString() : user.KeyTenantId()?.ToString();

    private static string CallerOf(ClaimsPrincipal user)
    {
        if (user.FindFirstValue(PlatformAuthentication.KeyIdClaim) is { Length: > 0 } keyId)
        {
            return "api_key:" + keyId;
        }
        if (user.FindFirstValue(JwtRegisteredClaimNames.Sub) is { Length: > 0 } subject)
        {
            return (user.FindFirstValue(TokenIssuer.OperatorRoleClaim) is { Length: > 0 } ? "operator:" : "user:") + subject;
        }
        return "anonymous";
    }

    /// <summary>Is the request's scope. It holds what the values come from (the request id, the request's activity) and formats them only
    /// when a line is written in the scope: most requests write none (ADR 0813).</summary>
    private sealed class RequestScope(string requestId, Activity? activity) : Scope
    {
        protected override KeyValuePair<string, object?>[] Format() =>
        [
            new("request_id", requestId),
            new("trace_id", activity?.TraceId.ToHexString()),
        ];
    }

    /// <summary>Is the caller's scope: it holds the route's tenant id (as sent) and the principal, both fixed once authenticated, and formats
    /// the values only when a line is written in the scope (ADR 0813).</summary>
    private sealed class CallerScope(string? routeTenant, ClaimsPrincipal user) : Scope
    {
        protected override KeyValuePair<string, object?>[] Format() =>
            [new("tenant_id", TenantOf(routeTenant, user)), new("caller", CallerOf(user))];
    }

    /// <summary>Is a scope of two named values, which the console formatters write as properties (and as "k:v" text in the simple format),
    /// formatted on first read.</summary>
    private abstract class Scope : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private KeyValuePair<string, object?>[]? values;

        private KeyValuePair<string, object?>[] Values => values ??= Format();

        public int Count => 2;

        public KeyValuePair<string, object?> this[int index] => Values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)Values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => Values.GetEnumerator();

        public override string ToString() => string.Join(' ', Values.Select(v => $"{v.Key}:{v.Value}"));

        protected abstract KeyValuePair<string, object?>[] Format();
    }
}
