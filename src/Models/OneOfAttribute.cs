using System.ComponentModel.DataAnnotations;

namespace Platform.Models;

/// <summary>Accepts a text setting only when it is one of the given values, ignoring case; a null value is left to [Required].</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter)]
public sealed class OneOfAttribute(params string[] values) : ValidationAttribute("{0} must be one of: {1}.")
{
    /// <summary>Gets the accepted values.</summary>
    public IReadOnlyList<string> Values { get; } = values;

    /// <inheritdoc />
    public override bool IsValid(object? value) =>
        value is null || value is string text && Values.Contains(text, StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string FormatErrorMessage(string name) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, ErrorMessageString, name, string.Join(", ", Values));
}
