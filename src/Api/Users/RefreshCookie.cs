using Platform.Engines.Users;

namespace Platform.Api.Users;

/// <summary>Keeps a browser's refresh token in an HttpOnly cookie, so that no script of the dashboard ever holds it (ADR 0590).</summary>
/// <remarks>
/// The cookie is set only when the sign-in or sign-up body asks for it (<c>refresh_cookie: true</c>); API clients keep receiving the token
/// in the body. It is SameSite=Strict, scoped to /v1/auth, and Secure when the request came over https; the refresh and logout routes read
/// it when their body names no refresh token.
/// </remarks>
public static class RefreshCookie
{
    /// <summary>Is the cookie's name.</summary>
    public const string Name = "platform_refresh";

    /// <summary>Is the path the browser sends the cookie to: the auth routes only.</summary>
    public const string Path = "/v1/auth";

    public static void Set(HttpContext http, string refreshToken, AccountOptions options) =>
        http.Response.Cookies.Append(Name, refreshToken, Options(http, TimeSpan.FromDays(options.RefreshTokenLifetimeDays)));

    public static void Clear(HttpContext http) => http.Response.Cookies.Delete(Name, Options(http, null));

    /// <summary>Returns the refresh token of the cookie, or null when the request carries none.</summary>
    public static string? Read(HttpContext http) =>
        http.Request.Cookies.TryGetValue(Name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static CookieOptions Options(HttpContext http, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = Path,
        MaxAge = maxAge,
        IsEssential = true,
    };
}
