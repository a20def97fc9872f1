using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform.Engines.DataProtection;

/// <summary>Refuses to start without DataProtection:KeyEncryptionKey outside Development, and with any key encryption key that is not base64 of 32 bytes.</summary>
/// <remarks>A container built without a host (the tests' engines) has no environment and does not require the key.</remarks>
internal sealed class KeyRingOptionsValidation(IHostEnvironment? environment = null) : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.KeyEncryptionKey))
        {
            if (environment is not null && !environment.IsDevelopment())
            {
                failures.Add("DataProtection:KeyEncryptionKey is not set: give it base64 of 32 random bytes (openssl rand -base64 32); ./platform run generates one in its data folder.");
            }
        }
        else if (Problem(options.KeyEncryptionKey) is { } problem)
        {
            failures.Add($"DataProtection:KeyEncryptionKey must be base64 of 32 random bytes{problem}.");
        }
        foreach (var old in options.OldKeys())
        {
            if (Problem(old) is { } problem)
            {
                failures.Add($"DataProtection:OldKeyEncryptionKeys must each be base64 of 32 random bytes{problem}.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string? Problem(string base64)
    {
        var buffer = new byte[base64.Length];
        return !Convert.TryFromBase64String(base64.Trim(), buffer, out var length) ? " (it is not base64)"
            : length != 32 ? $" (it has {length})"
            : null;
    }
}
