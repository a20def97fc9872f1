using MediatR;
using Microsoft.Extensions.Options;
using Platform.Drivers.Sessions;
using Platform.Drivers.Usage;
using Platform.Engines.ApiKeys;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Engines.Usage;

/// <summary>Admits one request of a signed-in user to a tenant route: applies the per-user requests-per-minute limit (429 rate_limited with a
/// reset time) and counts the request as one of the tenant's api_calls through the same batched counter as API keys (ADR 0715). Returns
/// false, counting nothing, when the user is no member of the tenant: the route's own engine then answers 404.</summary>
/// <remarks>A read (ADR 0412): the rate window is not a row the usage summary or the tenant gate reads.</remarks>
public sealed record AdmitUserRequest(Guid TenantId, Guid UserId) : IRequest<bool>, ITenantRead;

internal sealed class AdmitUserRequestHandler(
    IDbSessionFactory sessions, IUserRequestDriver requests, IApiKeyUsageRecorder recorder, IOptions<UsageOptions> options, IClock clock)
    : IRequestHandler<AdmitUserRequest, bool>
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public async Task<bool> Handle(AdmitUserRequest command, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var limit = settings.UserRequestsPerMinute;
        if (limit == 0 && !settings.CountUserRequests)
        {
            return true;
        }
        var now = clock.UtcNow;
        await using (var session = await sessions.OpenAsync(command.TenantId, command.UserId, cancellationToken))
        {
            if (limit == 0)
            {
                if (!await requests.IsMemberAsync(session, command.TenantId, command.UserId, cancellationToken))
                {
                    return false;
                }
            }
            else
            {
                var windowStart = new DateTimeOffset(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);
                // The share of the previous window that is still inside the last 60 seconds (docs/decisions/0110).
                var previousWeight = 1 - (double)(now - windowStart).Ticks / Window.Ticks;
                var counted = await requests.TryCountRequestAsync(session, command.TenantId, command.UserId, windowStart, previousWeight, limit, cancellationToken);
                if (counted is null)
                {
                    // Refused or no member: read the window only on this path, to tell which and when to retry.
                    var state = await requests.FetchRateWindowAsync(session, command.TenantId, command.UserId, cancellationToken);
                    var member = state is not null || await requests.IsMemberAsync(session, command.TenantId, command.UserId, cancellationToken);
                    await session.CommitAsync(cancellationToken);
                    if (!member)
                    {
                        return false;
                    }
                    var retryAt = state?.NextAdmissionAt(limit, Window) ?? windowStart + Window;
                    throw new QuotaExceededException("user_requests_per_minute", limit, limit, retryAt > now ? retryAt : now.AddSeconds(1), "rate_limited");
                }
            }
            await session.CommitAsync(cancellationToken);
        }
        if (settings.CountUserRequests)
        {
            recorder.RecordUserRequest(command.TenantId, now);
        }
        return true;
    }
}
