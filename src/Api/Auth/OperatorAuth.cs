using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;

namespace Platform.Api.Auth;

/// <summary>Names the operators' own authentication scheme and policy: /v1/admin accepts only operator tokens (their own audience), and tenant routes, on the default scheme, never accept them.</summary>
public static class OperatorAuth
{
    public const string Scheme = "Operator";
    public const string Policy = "operator";

    /// <summary>Names the rate limiting policy of POST /v1/admin/auth/login: a fixed window per client IP, beside the per-operator lockout.</summary>
    public const string LoginRateLimit = "operator-login";

    public static void AddPolicy(AuthorizationOptions options) =>
        options.AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(TokenIssuer.OperatorRoleClaim));

    /// <summary>Limits operator login attempts per client IP to Auth:OperatorLoginsPerMinutePerIp (default 20) a minute; refused requests get 429 rate_limited with Retry-After. Requests without a client IP (in-process hosts) are not limited here; the per-operator lockout still applies.</summary>
    public static void AddLoginRateLimit(RateLimiterOptions options, int permitsPerMinute)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = (context, _) =>
        {
            if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
            {
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }
            return ValueTask.CompletedTask;
        };
        options.AddPolicy(LoginRateLimit, http => http.Connection.RemoteIpAddress is { } ip
            ? RateLimitPartition.GetFixedWindowLimiter(ip.ToString(), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permitsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            })
            : RateLimitPartition.GetNoLimiter("in-process"));
    }
}
