using System.Globalization;
using System.Net;
using Platform.Models.Tenants;

namespace Platform.Models.Sso;

/// <summary>Holds a tenant's OpenID Connect settings as stored, without the client secret (which only the engines unprotect).</summary>
public sealed record SsoSettings(
    Guid TenantId,
    string Issuer,
    string ClientId,
    IReadOnlyList<string> Domains,
    TenantRole DefaultRole,
    string? GroupClaim,
    IReadOnlyDictionary<string, TenantRole> GroupRoles,
    bool Enforce,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Gives the role a new member gets: the highest role mapped from one of their groups, else the default role.</summary>
    public TenantRole RoleFor(IReadOnlyCollection<string> groups)
    {
        var mapped = groups.Where(GroupRoles.ContainsKey).Select(g => GroupRoles[g]).ToList();
        return mapped.Count > 0 ? mapped.Max() : DefaultRole;
    }
}

/// <summary>Holds a tenant's settings with the client secret as Data Protection ciphertext.</summary>
public sealed record StoredSsoSettings(SsoSettings Settings, string ProtectedClientSecret);

/// <summary>Holds a settings change as asked: a null client secret keeps the stored one.</summary>
public sealed record SsoSettingsInput(
    string? Issuer,
    string? ClientId,
    string? ClientSecret,
    IReadOnlyList<string>? Domains,
    string? DefaultRole,
    string? GroupClaim,
    IReadOnlyDictionary<string, string>? GroupRoles,
    bool? Enforce);

/// <summary>Holds a started sign-in as the engines keep it: the tenant, the PKCE verifier and the nonce (under Data Protection) and the redirect URI.</summary>
public sealed record SsoSignInState(Guid TenantId, string ProtectedSecrets, string RedirectUri, DateTimeOffset ExpiresAt);

/// <summary>Holds what a validated ID token says about the user: subject, email, whether the IdP verified the email, name and groups.</summary>
public sealed record OidcIdentity(string Issuer, string Subject, string? Email, bool? EmailVerified, string? Name, string? Nonce, IReadOnlyList<string> Groups);

/// <summary>Says why an SSO sign-in was refused; the wire name is the problem's reason.</summary>
[WireEnum]
public enum SsoRefusal
{
    StateInvalid,
    IdpError,
    IdpUnreachable,
    IssuerMismatch,
    TokenExchangeFailed,
    InvalidIssuer,
    InvalidAudience,
    TokenExpired,
    InvalidSignature,
    InvalidToken,
    NonceMismatch,
    EmailMissing,
    EmailNotVerified,
    EmailDomainNotAllowed,
    AccountDisabled,
    FeatureNotInPlan,
    IssuerAddressRefused,
    SeatLimitReached,
}

/// <summary>Signals a refused SSO sign-in with its reason; the engines turn it into 403 sso_refused naming the reason (<see cref="ToProblem"/>).</summary>
public sealed class SsoRefusedException(SsoRefusal reason, string message) : Errors.PlatformException("sso_refused", message)
{
    public SsoRefusal Reason { get; } = reason;

    /// <summary>Gives the refusal the API answers: 403 sso_refused with the reason.</summary>
    public Errors.ForbiddenException ToProblem() => new(Message, "sso_refused")
    {
        Extensions = new Dictionary<string, object?> { ["reason"] = Reason.ToWire() },
    };
}

/// <summary>Normalises and checks SSO settings input: domains, issuer URLs, roles.</summary>
public static class SsoRules
{
    /// <summary>Is the most email domains one tenant may claim.</summary>
    public const int MaxDomains = 50;

    /// <summary>Is the most group mappings.</summary>
    public const int MaxGroupRoles = 100;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>Normalises an email domain (IDN to punycode, lower case, no trailing dot); null when it is not a plain DNS name of two labels or more
    /// (no IP literal, no wildcard, no port).</summary>
    public static string? NormaliseDomain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain) || domain.Length > 253)
        {
            return null;
        }
        var text = domain.Trim().TrimEnd('.');
        if (text.Length == 0 || IPAddress.TryParse(text.Trim('[', ']'), out _))
        {
            return null;
        }
        string ascii;
        try
        {
            ascii = Idn.GetAscii(text).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
        var labels = ascii.Split('.');
        if (ascii.Length > 253 || labels.Length < 2 || labels.Any(l => l.Length is 0 or > 63 || l.StartsWith('-') || l.EndsWith('-')
            || l.Any(c => !(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))) || labels[^1].All(char.IsAsciiDigit))
        {
            return null;
        }
        return ascii;
    }

    /// <summary>Gives the normalised domain of an email address, or null.</summary>
    public static string? DomainOfEmail(string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        return at <= 0 || at == email!.Length - 1 ? null : NormaliseDomain(email[(at + 1)..]);
    }

    /// <summary>Checks an issuer URL: absolute https without query or fragment; http only to a loopback host when allowed.</summary>
    public static bool IsValidIssuer(string? issuer, bool allowLoopbackHttp)
    {
        if (string.IsNullOrWhiteSpace(issuer) || issuer.Length > 2048 || !Uri.TryCreate(issuer, UriKind.Absolute, out var uri)
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0 || issuer != issuer.Trim())
        {
            return false;
        }
        if (uri.IsLoopback)
        {
            // Loopback (a name or an address) only in the embedded default and the tests, http or https.
            return allowLoopbackHttp && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
        }
        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return false;
        }
        // An address literal is judged now; a name is judged at discovery, on every address it resolves to (OidcDriver's connect callback).
        return uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6)
            || (System.Net.IPAddress.TryParse(uri.DnsSafeHost, out var address) && IsAllowedIssuerAddress(address, allowLoopbackHttp));
    }

    /// <summary>Decides whether the server may connect to an address for a tenant's identity provider (discovery, JWKS, token endpoint): the webhook
    /// SSRF guard's one decision (<see cref="Webhooks.WebhookAddressPolicy.IsAllowed"/>), public unicast only, loopback only when allowed; private,
    /// link-local, shared, cloud-metadata and reserved addresses never (ADR 0733).</summary>
    public static bool IsAllowedIssuerAddress(System.Net.IPAddress address, bool allowLoopback) =>
        Webhooks.WebhookAddressPolicy.IsAllowed(address, allowLoopback);

    /// <summary>Reads a role a SSO member may get (admin, member or viewer; never owner); false otherwise.</summary>
    public static bool TryParseMemberRole(string? value, out TenantRole role) =>
        WireNames.TryParse(value, out role) && role != TenantRole.Owner;
}
