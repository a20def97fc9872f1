using System.Text.RegularExpressions;

namespace Platform.Models.Branding;

/// <summary>Holds a tenant's branding: logo and stylesheet URLs (https), primary colour (#rrggbb), product name and email sender name; null fields fall back to the platform's.</summary>
public sealed record TenantBranding(string? LogoUrl, string? CustomCssUrl, string? PrimaryColor, string? ProductName, string? EmailSenderName)
{
    /// <summary>Gets the branding of a tenant that set none.</summary>
    public static TenantBranding Empty { get; } = new(null, null, null, null, null);

    /// <summary>Tells whether no field is set.</summary>
    public bool IsEmpty => this == Empty;
}

/// <summary>Checks branding values: https URLs without credentials or control characters, #rrggbb colours, short names without control characters.</summary>
public static partial class BrandingRules
{
    /// <summary>Is the longest URL, in characters.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Is the longest product or sender name, in characters.</summary>
    public const int MaxNameLength = 100;

    [GeneratedRegex("^#[0-9a-fA-F]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex Color();

    /// <summary>Gives why a URL is refused, or null when it is an absolute https URL with a host, no user info and no control or space characters.</summary>
    public static string? UrlProblem(string? url)
    {
        if (url is null)
        {
            return null;
        }
        if (url.Length > MaxUrlLength)
        {
            return $"The URL must be at most {MaxUrlLength} characters.";
        }
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || url.Any(char.IsSurrogate))
        {
            return "The URL must not contain spaces or control characters.";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host)
            || !url.StartsWith("https://", StringComparison.Ordinal))
        {
            return "The URL must be an absolute https:// URL (javascript:, data: and http: URLs are refused).";
        }
        return uri.UserInfo.Length > 0 ? "The URL must not carry a user name or password." : null;
    }

    /// <summary>Gives why a colour is refused, or null when it is #rrggbb.</summary>
    public static string? ColorProblem(string? color) =>
        color is null || Color().IsMatch(color) ? null : "The colour must be #rrggbb (six hexadecimal digits).";

    /// <summary>Gives why a name is refused, or null when it is 1 to 100 characters of text without control characters or line breaks.</summary>
    public static string? NameProblem(string? name)
    {
        if (name is null)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
        {
            return $"The name must be 1 to {MaxNameLength} characters, not only spaces.";
        }
        return name.Any(char.IsControl) || HasUnpairedSurrogate(name) ? "The name must not contain control characters or line breaks." : null;
    }

    /// <summary>Gives the branding in its stored form: colours in lower case, names trimmed.</summary>
    public static TenantBranding Normalise(TenantBranding branding) => branding with
    {
        PrimaryColor = branding.PrimaryColor?.ToLowerInvariant(),
        ProductName = branding.ProductName?.Trim(),
        EmailSenderName = branding.EmailSenderName?.Trim(),
    };

    private static bool HasUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }
        return false;
    }
}
