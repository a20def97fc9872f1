namespace Platform.Api.Hosting;

/// <summary>Holds the service's settings (section "Platform").</summary>
public sealed class PlatformOptions
{
    /// <summary>Gets or sets the base host under which tenants are reached as {slug}.{BaseHost}; empty disables Host resolution.</summary>
    public string BaseHost { get; set; } = "platform.localhost";

    /// <summary>Gets or sets the largest accepted request body, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;

    /// <summary>Gets or sets whether the background jobs run inside the API process.</summary>
    public bool RunJobs { get; set; } = true;
}

/// <summary>Holds the token settings (section "Auth").</summary>
public sealed class AuthOptions
{
    /// <summary>Gets or sets the HMAC-SHA256 signing key, base64, at least 32 bytes.</summary>
    public string SigningKey { get; set; } = "";

    public string Issuer { get; set; } = "platform";

    /// <summary>Gets or sets the lifetime of an access token, in minutes.</summary>
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>Gets or sets the lifetime of an operator's access token, in minutes.</summary>
    public int OperatorTokenLifetimeMinutes { get; set; } = 30;
}
