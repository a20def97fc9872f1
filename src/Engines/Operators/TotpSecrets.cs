using Microsoft.AspNetCore.DataProtection;
using OtpNet;
using Platform.Models;

namespace Platform.Engines.Operators;

/// <summary>Creates TOTP secrets, keeps them encrypted at rest with Data Protection, and verifies codes (RFC 6238, 30-second steps, one step of drift either way).</summary>
internal sealed class TotpSecrets(IDataProtectionProvider dataProtection, IClock clock)
{
    private const string Issuer = "Platform";
    private readonly IDataProtector protector = dataProtection.CreateProtector("Platform.Operators.TotpSecret.v1");

    /// <summary>Creates a random 160-bit secret, base32 encoded.</summary>
    public static string NewSecret() => Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20)).TrimEnd('=');

    /// <summary>Tells whether a string is a usable base32 secret of at least 128 bits.</summary>
    public static bool IsValidSecret(string secret)
    {
        try
        {
            return Base32Encoding.ToBytes(secret).Length >= 16;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static string OtpAuthUri(string email, string secret) =>
        $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(email)}?secret={secret}&issuer={Uri.EscapeDataString(Issuer)}&algorithm=SHA1&digits=6&period=30";

    public string Protect(string secret) => protector.Protect(secret);

    /// <summary>Checks a six-digit code against the protected secret at the clock's time.</summary>
    public bool Verify(string protectedSecret, string? code) => MatchStep(protectedSecret, code) is not null;

    /// <summary>Returns the 30-second time step a valid code belongs to (so that a used step can be refused next time), or null for an invalid code.</summary>
    public long? MatchStep(string protectedSecret, string? code)
    {
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit))
        {
            return null;
        }
        var secret = protector.Unprotect(protectedSecret);
        var totp = new Totp(Base32Encoding.ToBytes(secret));
        return totp.VerifyTotp(clock.UtcNow.UtcDateTime, code, out var step, new VerificationWindow(previous: 1, future: 1)) ? step : null;
    }
}
