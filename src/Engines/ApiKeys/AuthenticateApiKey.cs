using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Sessions;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;

namespace Platform.Engines.ApiKeys;

/// <summary>Admits one request made with an API key secret: finds the key (cache, else the cross-tenant look-up by hash), refuses revoked, frozen or expired keys (401), applies the key's requests-per-minute limit (429 rate_limited) and counts the request for last_used_at, total_requests and api_calls.</summary>
public sealed record AuthenticateApiKey(string Secret) : IRequest<ApiKeyCredentials>
{
    /// <summary>Returns the command's name without the secret, so that no log or exception message can carry it.</summary>
    public override string ToString() => "AuthenticateApiKey { Secret = *** }";
}

internal sealed class AuthenticateApiKeyHandler(
    IDbSessionFactory sessions, IApiKeyDriver keys, ApiKeyCache cache, IApiKeyUsageRecorder usage, IClock clock)
    : IRequestHandler<AuthenticateApiKey, ApiKeyCredentials>
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public async Task<ApiKeyCredentials> Handle(AuthenticateApiKey command, CancellationToken cancellationToken)
    {
        if (!ApiKeySecrets.HasKeyShape(command.Secret))
        {
            throw new UnauthorizedException("The API key is not valid.");
        }
        var hash = ApiKeySecrets.Hash(command.Secret);
        var hashKey = Convert.ToBase64String(hash);
        if (!cache.TryGet(hashKey, out var key))
        {
            var seen = cache.Generation;
            await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
            {
                key = await keys.FindCredentialsByHashAsync(session, hash, cancellationToken)
                    ?? throw new UnauthorizedException("The API key is not valid.");
            }
            // The warm-up sandbox's key (ADR 0815) is never cached: it exists only inside the sandbox's transaction.
            if (key.RevokedAt is null && key.FrozenAt is null && !WarmUpSandbox.Active)
            {
                cache.Store(hashKey, key, seen);
            }
        }

        var now = clock.UtcNow;
        if (key.RevokedAt is not null)
        {
            throw new UnauthorizedException("The API key has been revoked.");
        }
        if (key.FrozenAt is not null)
        {
            throw new UnauthorizedException("The API key is frozen.");
        }
        if (key.ExpiresAt <= now)
        {
            throw new UnauthorizedException("The API key has expired.");
        }
        if (key.RateLimitRpm is { } rpm)
        {
            await CountWithinLimitAsync(key, rpm, now, cancellationToken);
        }
        usage.Record(key.TenantId, key.Id, now);
        return key;
    }

    private async Task CountWithinLimitAsync(ApiKeyCredentials key, int rpm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var windowStart = new DateTimeOffset(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);
        // The share of the previous window that is still inside the last 60 seconds (docs/decisions/0110).
        var previousWeight = 1 - (double)(now - windowStart).Ticks / Window.Ticks;
        await using var session = await sessions.OpenAsync(key.TenantId, null, cancellationToken);
        var counted = await keys.TryCountRequestAsync(session, key.TenantId, key.Id, windowStart, previousWeight, rpm, cancellationToken);
        if (counted is null)
        {
            // Refused: read the window only to say when to retry (seconds are rounded up by the API's Retry-After).
            var state = await keys.FetchRateWindowAsync(session, key.TenantId, key.Id, cancellationToken);
            await session.CommitAsync(cancellationToken);
            var retryAt = state?.NextAdmissionAt(rpm, Window) ?? windowStart + Window;
            throw new QuotaExceededException("rate_limit_rpm", rpm, rpm, retryAt > now ? retryAt : now.AddSeconds(1), "rate_limited");
        }
        await session.CommitAsync(cancellationToken);
    }
}
