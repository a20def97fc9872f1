using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines.Usage;
using Platform.Models.Errors;
using Platform.Models.Usage;
using static Platform.Api.Errors.ProblemResponses;

namespace Platform.Api.Usage;

/// <summary>Maps the quota check the product calls before spending: allowed with the figures, or 429 quota_exceeded; optionally a reservation (ADR 0710).</summary>
public sealed class QuotaCheckApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var checks = routes.MapTenantGroup("/quota-checks").WithTags("Usage");
        checks.MapPost("/", CheckAsync)
            .WithName("createQuotaCheck")
            .WithSummary("Ask whether an amount of a meter may be spent now, and optionally reserve it for a few seconds")
            .WithDescription("Any member, or an API key with quota:check. 200 {allowed, meter, policy, limit (null: none, -1: unlimited), used, reserved, remaining, "
                + "resets_at} and, with reserve: true, reservation_id and reservation_expires_at (reserved and remaining then count this hold). "
                + "A reservation holds the amount for reserve_seconds (default Usage:ReservationDefaultSeconds, at most Usage:ReservationMaxSeconds); "
                + "a usage event carrying its reservation_id consumes it, an unconsumed one lapses at its expiry. A hard meter refuses with 429 "
                + "quota_exceeded when used plus the active holds plus amount would pass the limit; a soft meter is always allowed. "
                + "A plain check (no reserve) takes no lock and writes nothing: an API key's or a member's is answered from figures this instance read at most "
                + "Usage:SummaryCacheMilliseconds ago (default 1 s), which count this instance's own ingestion and reservations at once, other instances' "
                + "within that time, and stop counting a hold at its expiry; it is advice. Only a reservation is exact under concurrency.")
            .Produces<QuotaCheckResponse>()
            .RefusesBody()
            .Refuses(StatusCodes.Status429TooManyRequests, KeyThrottled
                + " `quota_exceeded`: the meter is hard and used plus reserved plus amount would pass its limit (`limit`, `used`, `reserved`, `remaining`, "
                + "`resets_at`; Retry-After: the reset).");
    }

    private static async Task<Ok<QuotaCheckResponse>> CheckAsync([AsParameters] TenantRequest request, QuotaCheckRequest? body)
    {
        if (body is null)
        {
            throw ValidationFailedException.For("body", "Send {\"meter\", \"amount\", \"reserve\"?, \"reserve_seconds\"?}.");
        }
        var result = await request.Send(new CheckAndReserveQuota(request.Caller, request.TenantId, body.Meter, body.Amount, body.Reserve ?? false, body.ReserveSeconds));
        return TypedResults.Ok(QuotaCheckResponse.From(result));
    }
}

/// <summary>Is the body of a quota check: a meter, the amount about to be spent and, optionally, a reservation of it for reserve_seconds.</summary>
public sealed record QuotaCheckRequest(string? Meter, decimal? Amount, bool? Reserve = null, int? ReserveSeconds = null);

/// <summary>Is the answer of an allowed quota check (limit null: none, -1: unlimited; remaining null without a finite limit).</summary>
public sealed record QuotaCheckResponse(bool Allowed, string Meter, MeterPolicy Policy, long? Limit, decimal Used, decimal Reserved, decimal? Remaining,
    DateTimeOffset ResetsAt, Guid? ReservationId, DateTimeOffset? ReservationExpiresAt)
{
    public static QuotaCheckResponse From(QuotaCheckResult r) =>
        new(r.Allowed, r.Meter, r.Policy, r.Limit, r.Used, r.Reserved, r.Remaining, r.ResetsAt, r.ReservationId, r.ReservationExpiresAt);
}
