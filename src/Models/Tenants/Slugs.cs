using System.Text.RegularExpressions;

namespace Platform.Models.Tenants;

/// <summary>Validates tenant slugs: 3 to 63 lowercase letters, digits and single inner hyphens.</summary>
public static partial class Slugs
{
    [GeneratedRegex("^[a-z0-9](-?[a-z0-9])*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string? slug) =>
        slug is { Length: >= 3 and <= 63 } && Pattern().IsMatch(slug);
}
