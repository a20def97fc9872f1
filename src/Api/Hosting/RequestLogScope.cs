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
        using (logger.BeginScope(new Scope(
        [
            new("request_id", http.TraceIdentifier),
            new("trace_id", Activity.Current?.TraceId.ToHexString()),
        ])))
        {
            await next();
        }
    }

    /// <summary>Opens the caller scope after authentication: tenant_id (the route's tenant, or the API key's for "current") and caller.</summary>
    public static async Task CallerAsync(HttpContext http, Func<Task> next)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerName);
        using (logger.BeginScope(new Scope([new("tenant_id", TenantOf(http)), new("caller", CallerOf(http.User))])))
        {
            await next();
        }
    }

    private static string? TenantOf(HttpContext http) =>
        http.Request.RouteValues.TryGetValue("tenant_id", out var value) && Guid.TryParse(value as string, out var tenantId)
            ? tenantId.ToString()
            : http.User.KeyTenantId()?.ToString();

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

    /// <summary>Is a scope of named values, which the console formatters write as properties (and as "k:v" text in the simple format).</summary>
    private sealed class Scope(KeyValuePair<string, object?>[] values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => values.GetEnumerator();

        public override string ToString() => string.Join(' ', values.Select(v => $"{v.Key}:{v.Value}"));
    }
}
