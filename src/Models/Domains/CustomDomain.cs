using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Platform.Models.Domains;

/// <summary>Is where a custom domain stands: waiting for its TXT record, verified, or failed at its last verification.</summary>
[WireEnum]
public enum DomainStatus
{
    Pending,
    Verified,
    Failed,
}

/// <summary>Is where a custom domain's certificate stands; the reverse proxy (Caddy's on-demand TLS) issues it, Platform only records it.</summary>
[WireEnum]
public enum SslStatus
{
    Pending,
    Issued,
    Renewing,
    Expired,
    Failed,
}

/// <summary>Holds a tenant's custom domain: its normalised (ASCII, lower-case) name, states, the token to publish and when it was verified and checked.</summary>
public sealed record CustomDomain(
    Guid Id,
    Guid TenantId,
    string Name,
    DomainStatus Status,
    SslStatus SslStatus,
    string VerificationToken,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? LastCheckedAt,
    DateTimeOffset? MissingSince,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SslExpiresAt = null,
    DateTimeOffset? SslCheckedAt = null)
{
    /// <summary>Gets the name of the TXT record that proves control of the domain.</summary>
    public string ChallengeName => DomainNames.ChallengeName(Name);
}

/// <summary>Holds what one TLS handshake with the reverse proxy for a domain found: the end of the certificate it served for the name, or the error
/// (no handshake, or a certificate for another name).</summary>
public sealed record TlsProbe(DateTimeOffset? NotAfter, string? Error);

/// <summary>Decides a custom domain's ssl_status from a TLS probe (ADR 0731): failed without a certificate for the name, expired once its end has passed,
/// renewing within renewBefore of its end, else issued. Pending stays until the first probe.</summary>
public static class SslStatusRule
{
    public static SslStatus Of(TlsProbe probe, DateTimeOffset now, TimeSpan renewBefore) => probe.NotAfter switch
    {
        null => SslStatus.Failed,
        { } end when end <= now => SslStatus.Expired,
        { } end when end - now <= renewBefore => SslStatus.Renewing,
        _ => SslStatus.Issued,
    };
}

/// <summary>Holds a new domain row to insert.</summary>
public sealed record NewCustomDomain(Guid Id, Guid TenantId, string Name, string VerificationToken, string CreatedBy, DateTimeOffset Now);

/// <summary>Holds what one DNS look-up of a TXT name found: the texts (empty when the name has none or does not exist) or, when the resolver gave no
/// definite answer (timeout, SERVFAIL, REFUSED), the error.</summary>
public sealed record TxtLookup(IReadOnlyList<string> Texts, string? Error)
{
    /// <summary>Tells whether the look-up gave a definite answer.</summary>
    public bool Answered => Error is null;
}

/// <summary>Is what a DNS check of a domain's TXT record observed.</summary>
public enum DomainCheck
{
    /// <summary>The record holds the domain's token.</summary>
    Found,

    /// <summary>The name servers answered, without the token.</summary>
    Missing,

    /// <summary>The record has been missing for longer than the grace period.</summary>
    MissingPastGrace,

    /// <summary>The name servers gave no definite answer.</summary>
    Unanswered,
}

/// <summary>Is the domain lifecycle: one pure transition of (status, check) to the next status.</summary>
public static class DomainLifecycle
{
    /// <summary>Gives the status after a check: a found token verifies; a verification that does not find it fails (pending or failed domains); a
    /// verified domain stays verified while its record is missing within the grace period and goes back to pending after it; no answer changes nothing.</summary>
    public static DomainStatus Next(DomainStatus status, DomainCheck check) => (status, check) switch
    {
        (_, DomainCheck.Found) => DomainStatus.Verified,
        (_, DomainCheck.Unanswered) => status,
        (DomainStatus.Verified, DomainCheck.Missing) => DomainStatus.Verified,
        (DomainStatus.Verified, DomainCheck.MissingPastGrace) => DomainStatus.Pending,
        (DomainStatus.Pending or DomainStatus.Failed, DomainCheck.Missing or DomainCheck.MissingPastGrace) => DomainStatus.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(check), check, $"No transition from {status} on {check}."),
    };
}

/// <summary>Normalises and checks custom domain names: IDN to punycode (IdnMapping, STD3 rules), lower case, no trailing dot, no IP literal, no
/// wildcard, two labels or more of 1-63 letters, digits or inner hyphens, 253 characters at most.</summary>
public static partial class DomainNames
{
    /// <summary>Is the label under which the verification TXT record is published.</summary>
    public const string ChallengeLabel = "_platform-challenge";

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Label();

    /// <summary>Gives the TXT record name for a normalised domain.</summary>
    public static string ChallengeName(string name) => $"{ChallengeLabel}.{name}";

    /// <summary>Returns the normalised name, or null with the reason in problem.</summary>
    public static string? Normalise(string? input, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(input))
        {
            problem = "Give a domain name such as app.example.com.";
            return null;
        }
        var name = input.Trim();
        if (name.Length > 300 || name.Any(char.IsControl))
        {
            problem = "The domain name is too long or holds control characters.";
            return null;
        }
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }
        if (name.Contains('*', StringComparison.Ordinal))
        {
            problem = "Wildcard domains are not accepted; add each name.";
            return null;
        }
        if (IPAddress.TryParse(name.Trim('[', ']'), out _))
        {
            problem = "An IP address is not a domain name.";
            return null;
        }
        string ascii;
        try
        {
            ascii = Idn.GetAscii(name.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            problem = "The domain name is not valid (labels of letters, digits and inner hyphens, separated by dots).";
            return null;
        }
        var labels = ascii.Split('.');
        if (ascii.Length > 253 || labels.Length < 2 || !labels.All(l => Label().IsMatch(l)) || labels[^1].All(char.IsAsciiDigit))
        {
            problem = "The domain name is not valid: at least two labels of 1-63 letters, digits or inner hyphens, 253 characters at most, a top-level domain that is not a number.";
            return null;
        }
        return ascii;
    }
}
