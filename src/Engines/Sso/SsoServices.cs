using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Sso;
using Platform.Engines.Plans;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Sso;

/// <summary>Makes and reads SSO's secrets: client secrets and sign-in secrets (PKCE verifier, nonce) under Data Protection, and the state and
/// one-time codes, which carry their tenant's id before 256 random bits and are stored only as SHA-256 hashes.</summary>
internal sealed class SsoSecrets(IDataProtectionProvider dataProtection)
{
    public const string StatePrefix = "st_";
    public const string CodePrefix = "ssoc_";

    private readonly IDataProtector clientSecrets = dataProtection.CreateProtector("Platform.Sso.ClientSecret.v1");
    private readonly IDataProtector signIns = dataProtection.CreateProtector("Platform.Sso.SignIn.v1");

    public string ProtectClientSecret(Guid tenantId, string secret) => clientSecrets.CreateProtector(tenantId.ToString("N")).Protect(secret);

    public string UnprotectClientSecret(Guid tenantId, string protectedSecret) => clientSecrets.CreateProtector(tenantId.ToString("N")).Unprotect(protectedSecret);

    public string ProtectSignIn(Guid tenantId, string verifier, string nonce) =>
        signIns.CreateProtector(tenantId.ToString("N")).Protect(JsonSerializer.Serialize(new[] { verifier, nonce }));

    public (string Verifier, string Nonce) UnprotectSignIn(Guid tenantId, string protectedSecrets)
    {
        var parts = JsonSerializer.Deserialize<string[]>(signIns.CreateProtector(tenantId.ToString("N")).Unprotect(protectedSecrets))!;
        return (parts[0], parts[1]);
    }

    /// <summary>Makes 256 random bits in base64url (43 characters).</summary>
    public static string Random() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Makes a state or code for a tenant: the prefix, the tenant id (32 hex digits), a dot and 256 random bits.</summary>
    public static string NewTenantSecret(string prefix, Guid tenantId) => $"{prefix}{tenantId:N}.{Random()}";

    /// <summary>Reads the tenant of a state or code made by NewTenantSecret; null for anything else.</summary>
    public static Guid? TenantOf(string? value, string prefix)
    {
        if (value is null || value.Length != prefix.Length + 32 + 1 + 43 || !value.StartsWith(prefix, StringComparison.Ordinal) || value[prefix.Length + 32] != '.'
            || value.AsSpan(prefix.Length + 33).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") >= 0)
        {
            return null;
        }
        return Guid.TryParseExact(value.AsSpan(prefix.Length, 32), "N", out var tenantId) ? tenantId : null;
    }

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    /// <summary>Gives the PKCE S256 challenge of a verifier (RFC 7636).</summary>
    public static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>Compares two texts in time independent of where they differ.</summary>
    public static bool FixedTimeEquals(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}

/// <summary>Tells whether a tenant has the sso feature now (its plan while in trial, active or past due, then operator overrides), read in the caller's session.</summary>
internal sealed class SsoAccess(IFeatureOverrideDriver features)
{
    public async Task<bool> HasSsoAsync(IDbSession session, TenantSnapshot tenant, CancellationToken cancellationToken)
    {
        var overrides = await features.ListFeatureOverridesAsync(session, tenant.Id, cancellationToken);
        return Features.EffectiveOf(EntitlementRules.PlanOf(tenant.Plan), tenant.Status, tenant.SuspendedReason, overrides).Contains(Features.Sso);
    }
}

/// <summary>Claims a tenant's SSO email domains: the one place that decides whether a tenant may claim a domain.</summary>
/// <remarks>The rule: the tenant proved it controls the domain (a verified custom domain, DNS TXT, ADR 0631) and no other tenant claims it
/// (the database's global registry, sso_domain_claims). Without the first, any tenant could claim a public mail domain and have its own identity
/// provider vouch for other people's addresses (ADR 0620).</remarks>
internal sealed class SsoDomainClaims(ISsoDriver sso, Models.IClock clock)
{
    /// <summary>Makes the session's tenant claim exactly these (normalised) domains, or refuses with 409 domain_claimed naming those another tenant holds.</summary>
    public async Task ClaimAsync(IDbSession session, IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        var verified = await sso.VerifiedDomainsAsync(session, domains, cancellationToken);
        var unverified = domains.Where(d => !verified.Contains(d)).ToList();
        if (unverified.Count > 0)
        {
            throw new ConflictException(
                $"These email domains are not verified custom domains of the tenant: {string.Join(", ", unverified)}. Add each under /domains and verify its TXT record first.",
                "domain_not_verified")
            {
                Extensions = new Dictionary<string, object?> { ["domains"] = unverified },
            };
        }
        var taken = await sso.ClaimDomainsAsync(session, domains, clock.UtcNow, cancellationToken);
        if (taken.Count > 0)
        {
            throw new ConflictException($"These email domains are claimed by another tenant: {string.Join(", ", taken)}.", "domain_claimed")
            {
                Extensions = new Dictionary<string, object?> { ["domains"] = taken },
            };
        }
    }
}
