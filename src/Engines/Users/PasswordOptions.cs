using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Users;

/// <summary>Holds the password hashing settings (keys of section "Auth").</summary>
public sealed class PasswordOptions
{
    /// <summary>Gets or sets bcrypt's work factor for new password hashes (Auth:BcryptWorkFactor); never below 12, and bcrypt knows none above 31.</summary>
    [Range(12, 31)]
    public int BcryptWorkFactor { get; set; } = 12;
}
