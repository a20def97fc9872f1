using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Sso;

/// <summary>Holds the SSO settings (keys of section "Sso").</summary>
public sealed class SsoOptions
{
    /// <summary>Gets or sets whether a tenant's issuer may be http on a loopback host (Sso:AllowLoopbackIssuer; for tests and the embedded default only; otherwise https is required).</summary>
    public bool AllowLoopbackIssuer { get; set; }

    /// <summary>Gets or sets how many minutes a started sign-in may take at the identity provider (Sso:SignInMinutes).</summary>
    [Range(1, 60)]
    public int SignInMinutes { get; set; } = 10;

    /// <summary>Gets or sets how many seconds the dashboard has to trade the one-time sign-in code for a session (Sso:CodeSeconds).</summary>
    [Range(5, 600)]
    public int CodeSeconds { get; set; } = 60;

    /// <summary>Gets or sets how many seconds a call to an identity provider may take (Sso:TimeoutSeconds).</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Gets or sets where the callback sends the browser after a sign-in, with the one-time code in the fragment (#code=…): a path of the
    /// dashboard or an absolute URL (Sso:CompletionUrl).</summary>
    [Required]
    [StringLength(2048, MinimumLength = 1)]
    public string CompletionUrl { get; set; } = "/sso/complete";

    /// <summary>Gets or sets the public base URL of the API that identity providers redirect back to, such as https://api.example.com
    /// (Sso:PublicBaseUrl; empty takes the request's own scheme and host).</summary>
    [StringLength(2048)]
    public string PublicBaseUrl { get; set; } = "";
}
