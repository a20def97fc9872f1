using System.ComponentModel.DataAnnotations;

namespace Platform.Api.Hosting;

/// <summary>Holds the origins of product front ends that may call the API from a browser (section "Cors"); none turns CORS off.</summary>
public sealed class CrossOriginOptions
{
    /// <summary>Gets or sets the allowed origins, comma- or space-separated, each scheme://host[:port] (Cors:AllowedOrigins).</summary>
    [Origins]
    public string? AllowedOrigins { get; set; }

    /// <summary>Gets the allowed origins as a list, empty when CORS is off.</summary>
    public string[] Origins => Split(AllowedOrigins);

    internal static string[] Split(string? value) =>
        (value ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Checks that every listed origin is an http or https origin: a scheme and a host, no path, query or wildcard.</summary>
    [AttributeUsage(AttributeTargets.Property)]
    private sealed class OriginsAttribute() : ValidationAttribute("{0} must list origins such as https://app.example.com (scheme and host, no path).")
    {
        public override bool IsValid(object? value) => Split(value as string).All(origin =>
            Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && !origin.Contains('*', StringComparison.Ordinal)
            && uri.GetLeftPart(UriPartial.Authority).Equals(origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
    }
}
