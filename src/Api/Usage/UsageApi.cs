using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Platform.Api.Errors;
using static Platform.Api.Errors.ProblemResponses;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines.Usage;
using Platform.Models.Usage;
using Platform.Models.Errors;

namespace Platform.Api.Usage;

/// <summary>Maps usage metering: batch ingestion of events, the current period's summary and the monthly history.</summary>
public sealed class UsageApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var usage = routes.MapTenantGroup("/usage").WithTags("Usage");
        usage.MapPost("/events", RecordAsync).Accepts<List<UsageEventRequest>>("application/json")
            .WithName("recordUsage")
            .WithSummary("Record a batch of usage events (1 to 1,000); an event's idempotency key is counted once")
            .WithDescription("Needs the member role or higher, or an API key with usage:write; refused while the tenant is suspended. "
                + "The body is a bare array of events or an object {\"events\": [...]}. An event may carry the reservation_id of a quota check "
                + "(POST /quota-checks) of its meter: it consumes that hold. Events of a meter whose policy is hard are admitted one by one in the "
                + "order sent (ADR 0770): those that fit the month's quota (with active reservations) are stored, the others are listed in `refused` "
                + "(`index`, `meter`, `reason`: quota_exceeded, `limit`, `used`, `remaining`) and the answer is 200 while any event was accepted or "
                + "already stored; a resend with the same keys counts the stored ones as duplicates and admits the refused ones again.")
            .Produces<UsageBatchResponse>()
            .RefusesBody()
            .Refuses(StatusCodes.Status429TooManyRequests, KeyThrottled
                + " `quota_exceeded`: every event of the batch was refused by a meter whose policy is hard (none accepted, none already stored; ADR 0770); "
                + "nothing is written (`accepted`: 0) and `refused_events` names each event (`index`, `meter`, `reason`: quota_exceeded, `limit`, "
                + "`used`, `remaining`) (Retry-After: the reset).");
        usage.MapPost("/check", CheckAsync)
            .WithName("checkUsageQuota")
            .WithSummary("Check before expensive work that a meter has room for an amount this month")
            .WithDescription("Any member, or an API key with usage:read. 200 with allowed, used, quota (null: none, -1: unlimited) and remaining; "
                + "429 quota_exceeded with Retry-After at the monthly reset when used plus amount would pass the quota. Nothing is reserved.")
            .Produces<UsageCheckResponse>()
            .RefusesBody()
            .Refuses(StatusCodes.Status429TooManyRequests, KeyThrottled
                + " `quota_exceeded`: used plus amount would pass the meter's quota (`limit`, `current`, `resets_at`; Retry-After: the reset).");
        usage.MapPut("/policies/{meter}", SetPolicyAsync)
            .WithName("setUsageMeterPolicy")
            .WithSummary("Set a meter's policy: hard refuses usage beyond the quota, soft (the default) allows it, alerts and bills the overage")
            .WithDescription("Admin or higher.")
            .Produces<MeterPolicyResponse>()
            .RefusesBody();
        usage.MapGet("/", SummaryAsync)
            .WithName("getUsageSummary")
            .WithSummary("Get the current period's usage per meter, with quotas and reset times")
            .WithDescription("Any member (viewer or higher), or an API key with usage:read.")
            .Produces<UsageSummaryResponse>();
        usage.MapGet("/history", HistoryAsync)
            .WithName("getUsageHistory")
            .WithSummary("Get the monthly usage rollups in a time range, or with granularity=day each day of one month, optionally of one meter, one worker or one API key")
            .WithDescription("Any member (viewer or higher), or an API key with usage:read. With worker_id or api_key_id, each month is computed "
                + "from that worker's or key's raw events with the meter's aggregation. granularity=day (default month) lists every UTC day of "
                + "`month` (YYYY-MM, default the current month; up to today) for each meter with raw events that month, computed from the raw events "
                + "with the meter's aggregation; from and to are for monthly history only. Meters counted without raw events (api_calls) have no days.");
        usage.MapGet("/events", ListEventsAsync)
            .WithName("listUsageEvents")
            .WithSummary("List raw usage events newest first, filtered by meter, time range (from inclusive, to exclusive, on occurred_at), worker and API key")
            .WithDescription("Any member (viewer or higher), or an API key with usage:read. Cursor paging: pass next_cursor back as cursor; limit 1 to 200 (50).")
            .Produces<ListResponse<UsageEventResponse>>();
    }

    /// <summary>Takes either a bare array of events or an object {"events": [...]}, read from the body in one pass (no document in between).</summary>
    private static async Task<Ok<UsageBatchResponse>> RecordAsync([AsParameters] TenantRequest request, IOptions<JsonOptions> json)
    {
        var http = request.Http;
        var ct = request.CancellationToken;
        if (!http.Request.HasJsonContentType())
        {
            throw new BadHttpRequestException("Send the body as application/json.", StatusCodes.Status415UnsupportedMediaType);
        }
        UsageEventBatch? batch;
        try
        {
            batch = await JsonSerializer.DeserializeAsync<UsageEventBatch>(http.Request.Body, json.Value.SerializerOptions, ct);
        }
        catch (JsonException e)
        {
            // The events are read by a nested deserialization whose paths start at the array ("$[3].amount"); either shape names them "events[3].amount".
            var named = e.Path is { } path && path.StartsWith("$[", StringComparison.Ordinal)
                ? new JsonException(e.Message, "$.events" + path[1..], e.LineNumber, e.BytePositionInLine, e.InnerException)
                : e;
            throw new BadHttpRequestException("The body is not valid JSON for this request.", StatusCodes.Status400BadRequest, named);
        }
        var items = batch?.Events
            ?? throw ValidationFailedException.For("events", "Send an array of events, or an object with an 'events' array.");
        var inputs = new List<UsageEventInput>(items.Count);
        foreach (var e in items)
        {
            inputs.Add(e is null ? null! : new UsageEventInput(e.Meter, e.Amount, e.IdempotencyKey, e.OccurredAt, e.Metadata, e.WorkerId, e.ReservationId));
        }
        var result = await request.Send(new RecordUsage(request.Caller, request.TenantId, inputs));
        return TypedResults.Ok(new UsageBatchResponse(inputs.Count, result.Accepted, result.Duplicates,
            result.Refused is { Count: > 0 } refused ? refused.Select(RefusedEventResponse.From).ToList() : []));
    }

    private static async Task<Ok<UsageCheckResponse>> CheckAsync([AsParameters] TenantRequest request, UsageCheckRequest? body)
    {
        if (body is null)
        {
            throw ValidationFailedException.For("body", "Send {\"meter\", \"amount\"}.");
        }
        if (body.Amount is not { } amount)
        {
            throw ValidationFailedException.For("amount", "The amount is required.");
        }
        var line = await request.Send(new CheckQuota(request.Caller, request.TenantId, body.Meter!, amount));
        return TypedResults.Ok(UsageCheckResponse.From(line));
    }

    private static async Task<Ok<MeterPolicyResponse>> SetPolicyAsync([AsParameters] TenantRequest request, string meter, MeterPolicyRequest? body)
    {
        if (body?.Policy is not { } policy)
        {
            throw ValidationFailedException.For("policy", "The policy is required: hard or soft.");
        }
        return TypedResults.Ok(new MeterPolicyResponse(meter, await request.Send(new SetMeterPolicy(request.Caller, request.TenantId, meter, policy))));
    }

    /// <summary>Holds the JSON of each summary the engine handed out. The engine gives API keys the same immutable summary until the tenant
    /// changes (ADR 0164), so a summary is serialized once, not on every poll; entries go when the engine drops the summary.</summary>
    private static readonly ConditionalWeakTable<UsageSummary, byte[]> SummaryJson = new();

    private static async Task<IResult> SummaryAsync([AsParameters] TenantRequest request, IOptions<JsonOptions> json)
    {
        var summary = await request.Send(new GetUsageSummary(request.Caller, request.TenantId));
        var body = SummaryJson.GetValue(summary, s => JsonSerializer.SerializeToUtf8Bytes(UsageSummaryResponse.From(s), json.Value.SerializerOptions));
        return TypedResults.Bytes(body, "application/json; charset=utf-8");
    }

    private static async Task<Ok<ListResponse<UsageEventResponse>>> ListEventsAsync([AsParameters] TenantRequest request, string? meter,
        DateTimeOffset? from, DateTimeOffset? to, string? worker_id, Guid? api_key_id, string? cursor, int? limit)
    {
        var page = await request.Send(new ListUsageEvents(request.Caller, request.TenantId, new UsageEventFilter(meter, from, to, worker_id, api_key_id), cursor, limit));
        return TypedResults.Ok(new ListResponse<UsageEventResponse>(page.Items.Select(UsageEventResponse.From).ToList(), page.NextCursor));
    }

    private static async Task<Ok<ListResponse<UsagePeriodResponse>>> HistoryAsync(
        [AsParameters] TenantRequest request, DateTimeOffset? from, DateTimeOffset? to, string? meter, string? worker_id, Guid? api_key_id,
        string? granularity, string? month)
    {
        if (granularity is not (null or "month" or "day"))
        {
            throw ValidationFailedException.For("granularity", "granularity is month (the default) or day.");
        }
        if (granularity == "day")
        {
            if (from is not null || to is not null)
            {
                throw ValidationFailedException.For(from is not null ? "from" : "to", "from and to are for monthly history; with granularity=day, send month (YYYY-MM).");
            }
            var days = await request.Send(new GetDailyUsageHistory(request.Caller, request.TenantId, month, meter, worker_id, api_key_id));
            return TypedResults.Ok(new ListResponse<UsagePeriodResponse>(days.Select(UsagePeriodResponse.FromDay).ToList(), null));
        }
        if (month is not null)
        {
            throw ValidationFailedException.For("month", "month is for granularity=day; monthly history takes from and to.");
        }
        var rollups = await request.Send(new GetUsageHistory(request.Caller, request.TenantId, from, to, meter, worker_id, api_key_id));
        return TypedResults.Ok(new ListResponse<UsagePeriodResponse>(rollups.Select(UsagePeriodResponse.From).ToList(), null));
    }
}
