using System.Text.RegularExpressions;

namespace Platform.Models.Branding;

/// <summary>Holds a tenant's branding: logo and stylesheet URLs (https), primary colour (#rrggbb), product name and email sender name; null fields fall back to the platform's.</summary>
public sealed record TenantBranding(string? LogoUrl, string? CustomCssUrl, string? PrimaryColor, string? ProductName, string? EmailSenderName)
{
    /// <summary>Gets the logo as a PNG image Platform keeps (ADR 0779), drawn on invoice PDFs; null when none was uploaded. Left out of audit
    /// details and equality by reference only.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public byte[]? LogoPng { get; init; }

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

    /// <summary>Is the largest logo image, in bytes (64 KB).</summary>
    public const int MaxLogoBytes = 65_536;

    /// <summary>Is the largest width or height of a logo image, in pixels.</summary>
    public const int MaxLogoPixels = 2000;

    /// <summary>Gives why a logo image is refused, or null when it is a PNG of at most 64 KB and 2000 x 2000 pixels whose header (IHDR) is well formed.</summary>
    public static string? LogoProblem(byte[]? png)
    {
        if (png is null)
        {
            return null;
        }
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length > MaxLogoBytes)
        {
            return $"The logo must be at most {MaxLogoBytes / 1024} KB.";
        }
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(signature) || !png.AsSpan(12, 4).SequenceEqual("IHDR"u8))
        {
            return "The logo must be a PNG image (base64 of the file).";
        }
        var width = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16, 4));
        var height = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20, 4));
        return width is 0 or > MaxLogoPixels || height is 0 or > MaxLogoPixels
            ? $"The logo must be 1 to {MaxLogoPixels} pixels wide and high."
            : null;
    }

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
