using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Engines.Users;

/// <summary>Hashes and verifies passwords.</summary>
public interface IPasswordHasher
{
    /// <summary>Hashes a password; throws QuotaExceededException (rate_limited) when hashing is saturated.</summary>
    Task<string> HashAsync(string password, CancellationToken cancellationToken);

    /// <summary>Verifies a password against a hash; throws QuotaExceededException (rate_limited) when hashing is saturated.</summary>
    Task<bool> VerifyAsync(string password, string hash, CancellationToken cancellationToken);
}

/// <summary>Hashes passwords with bcrypt at the configured work factor (12 unless configured higher), at most PasswordHashingConcurrency at a time.</summary>
/// <remarks>A call that finds no free slot within PasswordHashingWaitMilliseconds is refused at once (429 with Retry-After) instead of
/// queueing, so a flood of logins cannot take every core and starve the rest of the service (ADR 0186).</remarks>
internal sealed class BcryptPasswordHasher(PasswordOptions options, AuthThrottleOptions limits, IClock clock) : IPasswordHasher, IDisposable
{
    private readonly SemaphoreSlim slots = new(Math.Max(1, limits.PasswordHashingConcurrency));

    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        RunAsync(() => BCrypt.Net.BCrypt.EnhancedHashPassword(password, options.BcryptWorkFactor), cancellationToken);

    public Task<bool> VerifyAsync(string password, string hash, CancellationToken cancellationToken) =>
        RunAsync(() => Verify(password, hash), cancellationToken);

    public void Dispose() => slots.Dispose();

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (!await slots.WaitAsync(Math.Max(0, limits.PasswordHashingWaitMilliseconds), cancellationToken))
        {
            var concurrency = Math.Max(1, limits.PasswordHashingConcurrency);
            throw new QuotaExceededException("password_hashing", concurrency, concurrency, clock.UtcNow.AddSeconds(1), "rate_limited");
        }
        try
        {
            return work();
        }
        finally
        {
            slots.Release();
        }
    }

    private static bool Verify(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.EnhancedVerify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }
}
