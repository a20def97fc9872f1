using System.ComponentModel.DataAnnotations;

namespace Platform.Api.Hosting;

/// <summary>Holds the service's settings (section "Platform").</summary>
public sealed class PlatformOptions
{
    /// <summary>Gets or sets the base host under which tenants are reached as {slug}.{BaseHost}; empty disables Host resolution (Platform:BaseHost).</summary>
    public string BaseHost { get; set; } = "platform.localhost";

    /// <summary>Gets or sets the largest accepted request body, in bytes (Platform:MaxRequestBodyBytes).</summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;

    /// <summary>Gets or sets whether the background jobs run inside the API process (Platform:RunJobs).</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>Gets or sets whether the service warms its hot paths (the pool, admission, usage and key authentication) before /readyz answers ready (Platform:WarmUp, ADR 0751).</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Gets or sets how many database connections the warm-up opens at once, at most the pool's Maximum Pool Size less 2 (Platform:WarmUpConnections, ADR 0780).</summary>
    [Range(0, 1000)]
    public int WarmUpConnections { get; set; } = 16;

    /// <summary>Gets or sets how many of the API keys used in the last hour the warm-up puts in the key cache, with their tenants' IP allowlists,
    /// before /readyz answers ready; 0 = none (Platform:WarmUpCachedKeys, ADR 0821).</summary>
    [Range(0, 1_000_000)]
    public int WarmUpCachedKeys { get; set; } = 10_000;

    /// <summary>Gets or sets the longest the warm-up steps that wait for the JIT to settle go on together, in seconds (Platform:WarmUpMaxSeconds, ADR 0800, 0815).</summary>
    [Range(0, 600)]
    public int WarmUpMaxSeconds { get; set; } = 10;

    /// <summary>Gets or sets how many run admissions and completions execute at once; the rest wait first in, first out; 0 = no bound
    /// (Platform:AdmissionConcurrency, ADR 0800). Defaults to 8 per core (16 on the 2-core machine it was measured on; 4 per core cost throughput there).</summary>
    [Range(0, 10_000)]
    public int AdmissionConcurrency { get; set; } = 8 * Environment.ProcessorCount;

    /// <summary>Gets or sets how many admissions and completions may wait for their turn; one more is answered 503 with Retry-After
    /// (Platform:AdmissionQueueLimit, ADR 0800).</summary>
    [Range(0, 1_000_000)]
    public int AdmissionQueueLimit { get; set; } = 1000;
}

/// <summary>Holds the token settings (keys of section "Auth").</summary>
public sealed class AuthOptions
{
    /// <summary>Gets or sets the HMAC-SHA256 signing key, base64, at least 32 bytes (Auth:SigningKey).</summary>
    [Required(ErrorMessage = "Auth:SigningKey is not set: give it base64 of at least 32 random bytes; ./platform run generates one in its data folder.")]
    public string SigningKey { get; set; } = "";

    /// <summary>Gets or sets the issuer of every token (Auth:Issuer).</summary>
    [Required]
    public string Issuer { get; set; } = "platform";

    /// <summary>Gets or sets the lifetime of a user's access token, in minutes (Auth:TokenLifetimeMinutes); short, since a refresh token renews it (ADR 0530).</summary>
    [Range(1, 43_200)]
    public int TokenLifetimeMinutes { get; set; } = 15;

    /// <summary>Gets or sets the lifetime of an operator's access token, in minutes (Auth:OperatorTokenLifetimeMinutes).</summary>
    [Range(1, 43_200)]
    public int OperatorTokenLifetimeMinutes { get; set; } = 30;

    /// <summary>Tells what is wrong with <see cref="SigningKey"/>, or returns null when it is base64 of at least 32 bytes.</summary>
    public static string? SigningKeyProblem(string base64)
    {
        var buffer = new byte[base64.Length];
        return !Convert.TryFromBase64String(base64, buffer, out var length) ? "Auth:SigningKey must be base64."
            : length < 32 ? "Auth:SigningKey must hold at least 32 bytes (base64). ./platform run generates one in its data folder."
            : null;
    }
}

/// <summary>Holds what the demo seeding creates (section "Seed"); read by the serve and seed-demo verbs only.</summary>
public sealed class SeedOptions
{
    /// <summary>Gets or sets whether serve seeds the demo tenant, owner and operator at start (Seed:Demo).</summary>
    public bool Demo { get; set; }

    /// <summary>Gets or sets the demo owner's email (Seed:DemoEmail).</summary>
    public string DemoEmail { get; set; } = "demo@platform.local";

    /// <summary>Gets or sets the demo owner's and operator's password (Seed:DemoPassword); seeding refuses to run without it.</summary>
    public string? DemoPassword { get; set; }

    /// <summary>Gets or sets the demo operator's email (Seed:OperatorEmail).</summary>
    public string OperatorEmail { get; set; } = "operator@platform.local";

    /// <summary>Gets or sets the demo operator's TOTP secret, base32 (Seed:OperatorTotpSecret); without it no demo operator is seeded.</summary>
    public string? OperatorTotpSecret { get; set; }
}
